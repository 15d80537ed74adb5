/**
 * The P4Runtime ids of every control-plane object in the generated programs. The templates write
 * them as `@id(N)` annotations, so an object keeps its id across releases and spec changes; p4c
 * (and our front end) add the type prefix (p4info.proto `P4Ids.Prefix`). Never renumber: add.
 */
export const GATEWAY_IDS = {
  tables: {
    gatewayConfig: 1,
    vipTable: 2,
    slotTable: 3,
    backendTable: 4,
    tokenTable: 5,
    natReverse: 6,
    routes: 7,
  },
  actions: {
    drop: 1,
    setGateway: 2,
    setVip: 3,
    hashFlow5Tuple: 4,
    flowLookup: 5,
    flowLearn: 6,
    flowForget: 7,
    setSlotBackend: 8,
    setBackend: 9,
    natToBackend: 10,
    encapToHost: 11,
    acceptTunnel: 12,
    natToVip: 13,
    forward: 14,
    punt: 15,
    readL4Ports: 16,
    hashFlow3Tuple: 17,
    hashFlow2Tuple: 18,
  },
  counters: { drops: 1, vipStats: 2, backendStats: 3 },
  registers: { flowWay0: 1, flowWay1: 2 },
} as const;

export const HOST_IDS = {
  tables: {
    hostConfig: 1,
    localVm: 2,
    tokenTable: 3,
    vmPort: 4,
    peerTable: 5,
    routes: 6,
  },
  actions: {
    drop: 1,
    setHost: 2,
    deliverToVm: 3,
    acceptTunnel: 4,
    fromVm: 5,
    encapToPeer: 6,
    forward: 7,
    punt: 8,
  },
  counters: { drops: 1, vmRx: 2, vmTx: 3 },
} as const;

/**
 * Register access behind one interface, with the implementation chosen by what the target
 * supports: P4Runtime RegisterEntry (the embedded target), or BMv2's Thrift runtime service,
 * since BMv2's P4Runtime server answers register reads and writes with UNIMPLEMENTED.
 */
import { GrpcStatus } from '../../core/p4runtime/status.ts';
import { toBits, type Scalar } from '../schema/values.ts';
import { ClientError } from './errors.ts';
import type { SwitchClient } from './switch-client.ts';
import { Bmv2ThriftConnection, BMV2_THRIFT_PORT, ThriftCallError, type Bmv2ThriftOptions } from './thrift/bmv2-registers.ts';

export interface RegisterCell {
  readonly index: number;
  readonly value: bigint;
  /**
   * BMv2's Thrift read saturated: the cell holds some value ≥ 2^63 that cannot be known, `value`
   * is 2^63 − 1. Only 64-bit registers read over Thrift; absent otherwise.
   */
  readonly saturated?: true;
}

export interface RegisterAccess {
  readonly kind: 'p4runtime' | 'thrift';
  /** One cell, or every cell in index order. */
  read(name: string, index?: number): Promise<RegisterCell[]>;
  write(name: string, index: number, value: Scalar): Promise<void>;
  /** Every cell to zero. */
  clear(name: string): Promise<void>;
  close(): void;
}

/** Registers through P4Runtime Read/Write of RegisterEntry. */
export class P4RuntimeRegisterAccess implements RegisterAccess {
  readonly kind = 'p4runtime';

  constructor(private readonly client: SwitchClient) {}

  async read(name: string, index?: number): Promise<RegisterCell[]> {
    const cells = await this.client.readRegisters(name, index);
    return cells.map((c) => ({ index: c.index ?? 0, value: c.value ?? 0n }));
  }

  async write(name: string, index: number, value: Scalar): Promise<void> {
    await this.client.write([{ type: 'modify', entity: { kind: 'registerEntry', value: { register: name, index, value } } }]);
  }

  async clear(name: string): Promise<void> {
    // An unset index addresses every cell (P4Runtime §9.6).
    await this.client.write([{ type: 'modify', entity: { kind: 'registerEntry', value: { register: name, value: 0n } } }]);
  }

  close(): void {}
}

/** Values above 64 bits cannot pass through BMv2's Thrift interface (BmRegisterValue is i64). */
const THRIFT_MAX_BITS = 64;
/**
 * bm_register_read answers `Data::get<int64_t>()` (bm_runtime/Standard_server.cpp), a boost
 * multiprecision conversion that saturates: every 64-bit value ≥ 2^63 reads as 2^63 − 1.
 */
export const THRIFT_SATURATED = (1n << 63n) - 1n;

/** One cell as a Thrift read gives it (i64), flagged when the read saturated. Pure. */
export function thriftCell(index: number, raw: bigint, bitwidth: number): RegisterCell {
  const value = BigInt.asUintN(bitwidth, raw);
  return bitwidth === THRIFT_MAX_BITS && raw === THRIFT_SATURATED ? { index, value, saturated: true } : { index, value };
}

function thriftError(err: unknown, what: string): ClientError {
  const code = err instanceof ThriftCallError && err.reply?.kind === 'register-error'
    ? err.reply.codeName === 'INVALID_INDEX' ? GrpcStatus.OUT_OF_RANGE : err.reply.codeName === 'INVALID_REGISTER_NAME' ? GrpcStatus.NOT_FOUND : GrpcStatus.UNKNOWN
    : GrpcStatus.UNAVAILABLE;
  return new ClientError(`THRIFT_${code === GrpcStatus.UNAVAILABLE ? 'UNAVAILABLE' : 'REGISTER_ERROR'}`, `${what}: ${err instanceof Error ? err.message : String(err)}`, { grpcCode: code, cause: err });
}

/** Registers through BMv2's Thrift runtime service; names and widths come from the client's schema. */
export class ThriftRegisterAccess implements RegisterAccess {
  readonly kind = 'thrift';

  constructor(
    private readonly client: SwitchClient,
    private readonly connection: Bmv2ThriftConnection,
  ) {}

  /**
   * Connects and checks that the Thrift server belongs to the client's device (BmConfig.device_id
   * = simple_switch's --device-id): registers of another switch must never be read or cleared.
   */
  static async connect(client: SwitchClient, options: Bmv2ThriftOptions): Promise<ThriftRegisterAccess> {
    let connection: Bmv2ThriftConnection;
    let deviceId: bigint;
    try {
      connection = await Bmv2ThriftConnection.connect(options);
    } catch (err) {
      throw thriftError(err, 'Thrift connect');
    }
    try {
      ({ deviceId } = await connection.info());
    } catch (err) {
      connection.close();
      throw thriftError(err, 'Thrift bm_mgmt_get_info');
    }
    if (deviceId !== client.deviceId) {
      connection.close();
      const where = `${options.host ?? '127.0.0.1'}:${options.port ?? BMV2_THRIFT_PORT}`;
      throw new ClientError('THRIFT_WRONG_DEVICE', `the Thrift server at ${where} is device ${deviceId}, not device ${client.deviceId}`, {
        grpcCode: GrpcStatus.FAILED_PRECONDITION,
        hint: "give each switch's own Thrift port (simple_switch_grpc --thrift-port)",
      });
    }
    return new ThriftRegisterAccess(client, connection);
  }

  private info(name: string) {
    const r = this.client.requireSchema().register(name);
    if (r.bitwidth > THRIFT_MAX_BITS) {
      throw new ClientError('THRIFT_REGISTER_TOO_WIDE', `${r.name} is bit<${r.bitwidth}>: BMv2's Thrift interface carries at most 64 bits`, { grpcCode: GrpcStatus.UNIMPLEMENTED });
    }
    return r;
  }

  async read(name: string, index?: number): Promise<RegisterCell[]> {
    const r = this.info(name);
    try {
      if (index !== undefined) {
        toBits(index, 32, `${r.name}[index]`);
        const [v] = await this.connection.call({ method: 'bm_register_read', register: r.name, index });
        return [thriftCell(index, v ?? 0n, r.bitwidth)];
      }
      const all = await this.connection.call({ method: 'bm_register_read_all', register: r.name });
      return all.map((v, i) => thriftCell(i, v, r.bitwidth));
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw thriftError(err, `read ${r.name}`);
    }
  }

  async write(name: string, index: number, value: Scalar): Promise<void> {
    const r = this.info(name);
    const v = toBits(value, r.bitwidth, r.name);
    try {
      // i64 on the wire: a 64-bit value with its top bit set travels as a negative number.
      await this.connection.call({ method: 'bm_register_write', register: r.name, index, value: BigInt.asIntN(64, v) });
    } catch (err) {
      throw thriftError(err, `write ${r.name}[${index}]`);
    }
  }

  async clear(name: string): Promise<void> {
    const r = this.info(name);
    try {
      await this.connection.call({ method: 'bm_register_reset', register: r.name });
    } catch (err) {
      throw thriftError(err, `reset ${r.name}`);
    }
  }

  close(): void {
    this.connection.close();
  }
}

export interface RegisterAccessChoice {
  /** BMv2's Thrift server, used when P4Runtime register access is UNIMPLEMENTED. */
  readonly thrift?: Bmv2ThriftOptions;
  /**
   * Without `thrift`, where to look for it: BMv2's default, 127.0.0.1:9090 (simple_switch_grpc
   * started without --thrift-port on this machine), taken only if its device id is the switch's.
   */
  readonly defaultThrift?: Bmv2ThriftOptions;
}

/**
 * Probes the switch with a P4Runtime read of one register cell: success → P4Runtime; UNIMPLEMENTED
 * → Thrift at `thrift`, or else at BMv2's default (`defaultThrift`) if the device there is the
 * switch's; otherwise an error saying how to give the port. A pipeline without registers needs no probe.
 */
export async function selectRegisterAccess(client: SwitchClient, choice: RegisterAccessChoice = {}): Promise<RegisterAccess> {
  const first = [...client.requireSchema().registers][0];
  if (first === undefined) return new P4RuntimeRegisterAccess(client);
  try {
    await client.readRegisters(first.name, 0);
    return new P4RuntimeRegisterAccess(client);
  } catch (err) {
    if (!(err instanceof ClientError) || !err.isUnimplemented()) throw err;
    if (choice.thrift !== undefined) return ThriftRegisterAccess.connect(client, choice.thrift);
    const fallback = { host: '127.0.0.1', port: BMV2_THRIFT_PORT, ...choice.defaultThrift };
    try {
      return await ThriftRegisterAccess.connect(client, fallback);
    } catch (thriftErr) {
      throw new ClientError('P4RT_REGISTERS_UNIMPLEMENTED', `the switch does not serve registers over P4Runtime (BMv2 does not), and no Thrift server of device ${client.deviceId} answers at ${fallback.host}:${fallback.port}`, {
        grpcCode: GrpcStatus.UNIMPLEMENTED,
        hint: "give the switch's Thrift address (simple_switch_grpc built with Thrift, --thrift-port, default 9090)",
        cause: thriftErr,
      });
    }
  }
}

/**
 * Which tunnel endpoints and inner addresses each kind of token binds, for a deployment: the one
 * definition that the controller's table computation, its token planner and the packet tests
 * share. The MAC itself is token.ts's; addresses are dotted text, 0.0.0.0 where a token leaves the
 * address open.
 */
import { byCodeUnit } from '../order.ts';
import { hostOfVm } from '../spec/lookup.ts';
import type { Gateway, Host, LbSpec, Vip, Vm } from '../spec/schema.ts';
import type { TokenFields } from './token.ts';

/** Token fields with every address as dotted text. */
export type TextTokenFields = TokenFields & {
  readonly senderIp: string;
  readonly receiverIp: string;
  readonly innerSrcIp: string;
  readonly innerDstIp: string;
};

/** The address a token leaves open (a client on the Internet, any destination). */
export const ANY_ADDRESS = '0.0.0.0';

/**
 * Gateway → VM, on a VIP's packets (checked by the VM's host): binds the gateway's tunnel
 * endpoint, the VM's, and the inner destination the VM receives — the VIP in tunnel mode, the
 * VM's own address after NAT; the client is left open.
 */
export function requestTokenFields(spec: LbSpec, gateway: Gateway, vip: Vip, vm: Vm, expiry: number): TextTokenFields {
  const host = hostOfVm(spec, vm);
  return {
    senderIp: gateway.underlay.ipv4,
    senderPort: gateway.underlay.tunnelUdpPort,
    receiverIp: host.underlay.ipv4,
    receiverPort: vm.udpPort,
    innerSrcIp: ANY_ADDRESS,
    innerDstIp: vip.mode === 'nat' ? vm.privateIpv4 : vip.address,
    expiry,
  };
}

/**
 * VM → gateway, on replies and Internet egress (checked by the gateway): one per VM, binding the
 * VM's tunnel endpoint and private address; the destination is left open.
 */
export function replyTokenFields(spec: LbSpec, gateway: Gateway, vm: Vm, expiry: number): TextTokenFields {
  const host = hostOfVm(spec, vm);
  return {
    senderIp: host.underlay.ipv4,
    senderPort: vm.udpPort,
    receiverIp: gateway.underlay.ipv4,
    receiverPort: gateway.underlay.tunnelUdpPort,
    innerSrcIp: vm.privateIpv4,
    innerDstIp: ANY_ADDRESS,
    expiry,
  };
}

/** VM → VM on another host (checked by the destination VM's host). */
export function vmToVmTokenFields(spec: LbSpec, from: Vm, to: Vm, expiry: number): TextTokenFields {
  return {
    senderIp: hostOfVm(spec, from).underlay.ipv4,
    senderPort: from.udpPort,
    receiverIp: hostOfVm(spec, to).underlay.ipv4,
    receiverPort: to.udpPort,
    innerSrcIp: from.privateIpv4,
    innerDstIp: to.privateIpv4,
    expiry,
  };
}

/**
 * The gateway a host's VMs reply through: one at the host's location, else the first by name.
 * `usable` narrows the choice to gateways that are up (the controller's view); when none is, the
 * choice is made among all, so the host always has a reply path.
 */
export function replyGatewayOf(spec: LbSpec, host: Host, usable: (gateway: Gateway) => boolean = () => true): Gateway {
  // Code-unit order, not locale order: every controller picks the same gateway.
  const sorted = [...spec.gateways].sort((a, b) => byCodeUnit(a.name, b.name));
  const up = sorted.filter(usable);
  const candidates = up.length > 0 ? up : sorted;
  return candidates.find((g) => host.location !== undefined && g.location === host.location) ?? candidates[0]!;
}

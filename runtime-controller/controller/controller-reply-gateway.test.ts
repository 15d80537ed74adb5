/**
 * A host's VMs reply through one gateway (its location's). When the controller loses that
 * gateway, the host's reply path moves to a gateway that is up, with the tokens for it, and
 * moves back when the gateway returns: the VMs' answers never keep going to a lost gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../core/hash/flow-key.ts';
import { hostByName } from '../../core/spec/lookup.ts';
import { replyGatewayOf } from '../../core/token/conventions.ts';
import type { Prober } from '../health/index.ts';
import { GATEWAY_P4, HOST_P4, type TableEntry } from '../lb/index.ts';
import { eventually, startSettledDeployment, type Deployment } from './test-setup.ts';

/** Health is not what this tests: every probe passes. */
const alwaysUp: Prober = async () => ({ ok: true, latencyMs: 0 });

describe('replyGatewayOf', () => {
  it('prefers the host\'s location among the usable gateways, else the first usable by name, else the first of all', async () => {
    const d = await import('./test-setup.ts');
    const spec = d.exampleSpecAt({});
    const hostB = hostByName(spec, 'host-b');
    expect(replyGatewayOf(spec, hostB).name).toBe('gw-west');
    expect(replyGatewayOf(spec, hostB, (g) => g.name !== 'gw-west').name).toBe('gw-east');
    expect(replyGatewayOf(spec, hostB, () => false).name).toBe('gw-west');
    expect(replyGatewayOf(spec, hostByName(spec, 'host-a'), (g) => g.name === 'gw-west').name).toBe('gw-west');
  });
});

describe('controller: reply gateway follows the gateways that are up', () => {
  let d: Deployment;
  /** The hosts' default (0/0) peer entries: where their VMs' Internet traffic goes, with which token. */
  const defaultPeers = async (host: string): Promise<TableEntry[]> =>
    (await d.readEntries(host, HOST_P4.peerTable)).filter((e) => (e.keys.dst_addr as { prefixLength?: number }).prefixLength === 0);
  const address = (v: unknown): string => (typeof v === 'string' ? v : formatIpv4(Number(v)));
  const peersOf = async (host: string): Promise<string[]> => [...new Set((await defaultPeers(host)).map((e) => address(e.params.peer_addr)))].sort();

  beforeAll(async () => {
    d = await startSettledDeployment({ prober: alwaysUp });
  }, 120_000);

  afterAll(async () => {
    await d?.close();
  }, 60_000);

  it('moves host-b\'s replies to gw-east while gw-west is down, and back when it returns', async () => {
    const east = d.spec.gateways.find((g) => g.name === 'gw-east')!.underlay.ipv4;
    const west = d.spec.gateways.find((g) => g.name === 'gw-west')!.underlay.ipv4;
    expect(await peersOf('host-b')).toEqual([west]);
    expect(await peersOf('host-a')).toEqual([east]);

    await d.targets.get('gw-west')!.close();
    await eventually(async () => (await peersOf('host-b')).join() === east, 10_000, 'host-b replies through gw-east');
    expect(await peersOf('host-a')).toEqual([east]);
    // The tokens the host now sends are ones gw-east accepts.
    const accepted = new Set((await d.readEntries('gw-east', GATEWAY_P4.tokenTable)).map((e) => String(e.keys['token'])));
    const sent = (await defaultPeers('host-b')).map((e) => String(e.params['token']));
    expect(sent.length).toBeGreaterThan(0);
    for (const token of sent) expect(accepted.has(token)).toBe(true);

    await d.restartTarget('gw-west');
    await eventually(async () => (await peersOf('host-b')).join() === west, 30_000, 'host-b replies through gw-west again');
  }, 90_000);
});

/**
 * `-i N@ifname` port bindings, as BMv2's `simple_switch -i 1@veth0` spells them. Pure parsing:
 * whether the interface exists is learnt when the port is opened.
 */
import { MAX_PORT_NUMBER, PortError } from './port.ts';

export interface PortBinding {
  readonly port: number;
  readonly ifname: string;
}

/** Linux IFNAMSIZ (16) less the terminating NUL. */
export const MAX_IFNAME_BYTES = 15;

/** Where the text came from, for messages: `-i` by default, or e.g. a config field path. */
export interface PortBindingSource {
  readonly path?: string;
}

function bindingError(text: string, problem: string, source: PortBindingSource, hint?: string): PortError {
  const path = source.path ?? '-i';
  return new PortError('PORT_BINDING_INVALID', `port binding '${text}': ${problem}`, {
    location: { path },
    hint: hint ?? 'expected N@ifname, e.g. 1@veth0',
  });
}

/** Parses `N@ifname` (N in 0..510); throws PORT_BINDING_INVALID naming the bad part. */
export function parsePortBinding(text: string, source: PortBindingSource = {}): PortBinding {
  const at = text.indexOf('@');
  if (at < 0) throw bindingError(text, "missing '@' between port number and interface", source);
  const numberText = text.slice(0, at);
  const ifname = text.slice(at + 1);

  if (numberText === '') throw bindingError(text, "missing port number before '@'", source);
  if (!/^[0-9]+$/.test(numberText)) {
    throw bindingError(text, `port number '${numberText}' is not a decimal integer`, source);
  }
  const port = Number(numberText);
  if (port > MAX_PORT_NUMBER) {
    throw bindingError(
      text,
      `port number ${numberText} is out of range 0..${MAX_PORT_NUMBER}`,
      source,
      `${MAX_PORT_NUMBER + 1} is BMv2's drop port`,
    );
  }

  const problem = ifnameProblem(ifname);
  if (problem !== undefined) throw bindingError(text, problem, source, 'Linux interface names are 1 to 15 bytes');
  return { port, ifname };
}

/** Why the kernel would refuse `ifname` as an interface name (its dev_valid_name rules), if it would. */
export function ifnameProblem(ifname: string): string | undefined {
  if (ifname === '') return "missing interface name after '@'";
  const bytes = Buffer.byteLength(ifname, 'utf8');
  if (bytes > MAX_IFNAME_BYTES) {
    return `interface name '${ifname}' is ${bytes} bytes, longer than ${MAX_IFNAME_BYTES}`;
  }
  if (ifname === '.' || ifname === '..') return `interface name '${ifname}' is reserved`;
  const bad = /[/:\s]/.exec(ifname);
  if (bad !== null) return `interface name '${ifname}' contains ${JSON.stringify(bad[0])}`;
  return undefined;
}

/**
 * Parses every `-i` value and rejects a port number or an interface used twice
 * (PORT_BINDING_DUPLICATE), since one switch port is one interface.
 */
export function parsePortBindings(texts: readonly string[], source: PortBindingSource = {}): PortBinding[] {
  const base = source.path ?? '-i';
  const bindings: PortBinding[] = [];
  const byPort = new Map<number, string>();
  const byIfname = new Map<string, string>();
  texts.forEach((text, index) => {
    const path = `${base}[${index}]`;
    const binding = parsePortBinding(text, { path });
    const samePort = byPort.get(binding.port);
    if (samePort !== undefined) {
      throw new PortError('PORT_BINDING_DUPLICATE', `port binding '${text}': port ${binding.port} is already bound by '${samePort}'`, {
        location: { path },
        port: binding.port,
      });
    }
    const sameIfname = byIfname.get(binding.ifname);
    if (sameIfname !== undefined) {
      throw new PortError(
        'PORT_BINDING_DUPLICATE',
        `port binding '${text}': interface ${binding.ifname} is already bound by '${sameIfname}'`,
        { location: { path }, port: binding.port },
      );
    }
    byPort.set(binding.port, text);
    byIfname.set(binding.ifname, text);
    bindings.push(binding);
  });
  return bindings;
}

export function formatPortBinding(binding: PortBinding): string {
  return `${binding.port}@${binding.ifname}`;
}

/**
 * v1model's stateful externs as BMv2 keeps them: register arrays, indexed counters, direct
 * counters and meters. Each instance is an ExternObject the compiled code calls directly and the
 * control plane reads and writes by name.
 */
import { TargetError } from './errors.ts';
import type { ExternObject } from './values.ts';
import { maskOf } from './values.ts';

export type CounterUnit = 'packets' | 'bytes' | 'packets_and_bytes';

export class RegisterArray implements ExternObject {
  readonly externName = 'register';
  readonly values: bigint[];

  constructor(
    readonly name: string,
    readonly size: number,
    readonly width: number,
  ) {
    this.values = new Array<bigint>(size).fill(0n);
  }

  /** BMv2 reads an out-of-range index as 0 and ignores such writes (and logs them). */
  read(index: bigint): bigint {
    return index < BigInt(this.size) ? this.values[Number(index)]! : 0n;
  }

  write(index: bigint, value: bigint): void {
    if (index < BigInt(this.size)) this.values[Number(index)] = value & maskOf(this.width);
  }

  /** `read` with the index as a number (the data plane's bit<W ≤ 32> values). */
  readAt(index: number): bigint {
    return index < this.size ? this.values[index]! : 0n;
  }

  /** `write` with the index as a number and the value already in range (below 2^width). */
  writeAt(index: number, value: bigint): void {
    if (index < this.size) this.values[index] = value;
  }

  checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new TargetError('OUT_OF_RANGE', `register ${this.name}: index ${index} outside 0..${this.size - 1}`);
    }
  }

  reset(): void {
    this.values.fill(0n);
  }
}

export class CounterArray implements ExternObject {
  readonly externName = 'counter';
  readonly packets: bigint[];
  readonly bytes: bigint[];

  constructor(
    readonly name: string,
    readonly size: number,
    readonly unit: CounterUnit,
  ) {
    this.packets = new Array<bigint>(size).fill(0n);
    this.bytes = new Array<bigint>(size).fill(0n);
  }

  count(index: bigint, packetBytes: number): void {
    if (index >= BigInt(this.size)) return;
    this.countAt(Number(index), packetBytes);
  }

  /** `count` with the index as a number. */
  countAt(index: number, packetBytes: number): void {
    if (index >= this.size) return;
    this.packets[index]! += 1n;
    this.bytes[index]! += BigInt(packetBytes);
  }

  checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new TargetError('OUT_OF_RANGE', `counter ${this.name}: index ${index} outside 0..${this.size - 1}`);
    }
  }

  reset(): void {
    this.packets.fill(0n);
    this.bytes.fill(0n);
  }
}

/** A direct counter: its cells live in the entries of the table it is attached to. */
export class DirectCounter implements ExternObject {
  readonly externName = 'direct_counter';
  constructor(
    readonly name: string,
    readonly unit: CounterUnit,
  ) {}
}

/**
 * A meter. BMv2 meters whose rates were never configured mark every packet GREEN (0); the
 * embedded target has no rate configuration, so that is what it does.
 */
export class MeterArray implements ExternObject {
  readonly externName = 'meter';
  constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  execute(): bigint {
    return 0n;
  }
}

/** Deterministic pseudo-random numbers for v1model `random` (xorshift64*, seedable). */
export class Random {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = seed === 0n ? 0x9e3779b97f4a7c15n : BigInt.asUintN(64, seed);
  }

  next(): bigint {
    let x = this.state;
    x ^= x >> 12n;
    x = BigInt.asUintN(64, x ^ (x << 25n));
    x ^= x >> 27n;
    this.state = x;
    return BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
  }

  /** Uniform in [lo, hi] (BMv2: lo + rand mod (hi - lo + 1)). */
  between(lo: bigint, hi: bigint): bigint {
    if (hi <= lo) return lo;
    return lo + (this.next() % (hi - lo + 1n));
  }
}

import { describe, expect, it } from 'vitest';
import { GenerateError } from './errors.ts';
import { findTool, isExecutable } from './tools.ts';

const P4C = { variable: 'P4C', command: 'p4c' } as const;

describe('findTool', () => {
  const present = new Set(['/opt/p4c/bin/p4c', '/usr/bin/p4c']);
  const exists = (p: string): boolean => present.has(p);

  it('takes the variable first, then the first directory on PATH that has the command', () => {
    expect(findTool(P4C, { P4C: '/opt/p4c/bin/p4c', PATH: '/usr/bin' }, exists)).toBe('/opt/p4c/bin/p4c');
    expect(findTool(P4C, { P4C: '', PATH: ':/nowhere:/usr/bin:/opt/p4c/bin' }, exists)).toBe('/usr/bin/p4c');
    expect(findTool(P4C, { PATH: '/nowhere' }, exists)).toBeUndefined();
    expect(findTool(P4C, {}, exists)).toBeUndefined();
  });

  it('searches PATH alone for a tool without a variable', () => {
    expect(findTool({ command: 'p4c' }, { P4C: '/missing', PATH: '/usr/bin' }, exists)).toBe('/usr/bin/p4c');
  });

  it('throws GENERATE_TOOL_MISSING, not a PATH fallback, when the variable names no executable', () => {
    const find = (): string | undefined => findTool(P4C, { P4C: '/missing/p4c', PATH: '/usr/bin' }, exists);
    expect(find).toThrow(GenerateError);
    expect(find).toThrow(expect.objectContaining({ code: 'GENERATE_TOOL_MISSING', message: 'P4C=/missing/p4c is not an executable file' }));
  });

  it("answers not found instead when badVariable is 'not-found', still without the PATH fallback", () => {
    expect(findTool({ ...P4C, badVariable: 'not-found' }, { P4C: '/missing/p4c', PATH: '/usr/bin' }, exists)).toBeUndefined();
  });
});

describe('isExecutable', () => {
  it('tells an executable from a plain file and a missing path', () => {
    expect(isExecutable(process.execPath)).toBe(true);
    expect(isExecutable(new URL(import.meta.url).pathname)).toBe(false);
    expect(isExecutable('/nonexistent/p4lb-tool')).toBe(false);
  });
});

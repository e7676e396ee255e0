// The parts of the component model's binary format that declare a component's imports: type,
// import and alias section entries (component-model Binary.md), decoded into values whose type
// and instance references can be renumbered, and encoded again. compose.ts uses this to build one
// component out of two. Only what wit-component writes before a component's first core module is
// covered; anything else is reported as unsupported rather than guessed.

import { type Reader, Writer } from '../core/wasm-binary.js';

export type ValType = { prim: number } | { idx: number };

export type DefType =
  | { k: 'prim'; b: number }
  | { k: 'record'; fields: Array<[string, ValType]> }
  | { k: 'variant'; cases: Array<[string, ValType | null]> }
  | { k: 'list'; t: ValType; len?: number }
  | { k: 'tuple'; ts: ValType[] }
  | { k: 'flags' | 'enum'; names: string[] }
  | { k: 'option'; t: ValType }
  | { k: 'result'; ok: ValType | null; err: ValType | null }
  | { k: 'own' | 'borrow'; idx: number }
  | { k: 'stream' | 'future'; t: ValType | null }
  | { k: 'error-context' }
  | { k: 'func'; opcode: number; params: Array<[string, ValType]>; result: { single: ValType } | { named: Array<[string, ValType]> } }
  | { k: 'instance'; decls: Decl[] }
  | { k: 'component'; decls: Decl[] }
  | { k: 'resource'; raw: Uint8Array };

/** Sorts, as the binary names them: core sorts are `core:<byte>`. */
export type Sort = 'func' | 'value' | 'type' | 'component' | 'instance' | `core:${number}`;

export type AliasTarget = { k: 'export'; instance: number; name: string } | { k: 'core-export'; instance: number; name: string } | { k: 'outer'; ct: number; idx: number };

export interface Alias {
  sort: Sort;
  target: AliasTarget;
}

export type ExternDesc =
  | { k: 'module'; idx: number }
  | { k: 'func'; idx: number }
  | { k: 'value'; raw: Uint8Array }
  | { k: 'type'; eq: number | null }
  | { k: 'component'; idx: number }
  | { k: 'instance'; idx: number };

export interface ExternName {
  name: string;
  /** The optional version suffix form (0x01); kept as it came. */
  version?: string;
}

export type Decl =
  | { k: 'type'; t: DefType }
  | { k: 'alias'; a: Alias }
  | { k: 'export'; name: ExternName; desc: ExternDesc }
  | { k: 'import'; name: ExternName; desc: ExternDesc };

export class UnsupportedComponentError extends Error {}

const SORTS: Record<number, Sort> = { 1: 'func', 2: 'value', 3: 'type', 4: 'component', 5: 'instance' };
const SORT_BYTES: Record<string, number> = { func: 1, value: 2, type: 3, component: 4, instance: 5 };
const DESC_SORT: Record<ExternDesc['k'], Sort> = { module: 'core:17', func: 'func', value: 'value', type: 'type', component: 'component', instance: 'instance' };

export function descSort(desc: ExternDesc): Sort {
  return DESC_SORT[desc.k];
}

// ---- decoding ----

function valType(r: Reader): ValType {
  const v = r.s33();
  return v < 0 ? { prim: v + 128 } : { idx: v };
}

function optional<T>(r: Reader, f: () => T): T | null {
  const b = r.byte();
  if (b === 0) return null;
  if (b === 1) return f();
  throw new UnsupportedComponentError(`bad optional marker 0x${b.toString(16)}`);
}

function vec<T>(r: Reader, f: () => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(f());
  return out;
}

export function readSort(r: Reader): Sort {
  const b = r.byte();
  if (b === 0) return `core:${r.byte()}`;
  const s = SORTS[b];
  if (!s) throw new UnsupportedComponentError(`unknown sort 0x${b.toString(16)}`);
  return s;
}

export function readAlias(r: Reader): Alias {
  const sort = readSort(r);
  const tag = r.byte();
  if (tag === 0) return { sort, target: { k: 'export', instance: r.u32(), name: r.name() } };
  if (tag === 1) return { sort, target: { k: 'core-export', instance: r.u32(), name: r.name() } };
  if (tag === 2) return { sort, target: { k: 'outer', ct: r.u32(), idx: r.u32() } };
  throw new UnsupportedComponentError(`unknown alias target 0x${tag.toString(16)}`);
}

export function readExternName(r: Reader): ExternName {
  const tag = r.byte();
  if (tag === 0) return { name: r.name() };
  if (tag === 1) return { name: r.name(), version: r.name() };
  throw new UnsupportedComponentError(`unknown extern name form 0x${tag.toString(16)}`);
}

export function readExternDesc(r: Reader): ExternDesc {
  const tag = r.byte();
  switch (tag) {
    case 0x00: {
      const sub = r.byte();
      if (sub !== 0x11) throw new UnsupportedComponentError('core extern other than a module');
      return { k: 'module', idx: r.u32() };
    }
    case 0x01:
      return { k: 'func', idx: r.u32() };
    case 0x02: {
      const start = r.pos;
      if (r.byte() === 0) r.u32();
      else valType(r);
      return { k: 'value', raw: r.bytes.slice(start, r.pos) };
    }
    case 0x03: {
      const b = r.byte();
      if (b === 0) return { k: 'type', eq: r.u32() };
      if (b === 1) return { k: 'type', eq: null };
      throw new UnsupportedComponentError(`unknown type bound 0x${b.toString(16)}`);
    }
    case 0x04:
      return { k: 'component', idx: r.u32() };
    case 0x05:
      return { k: 'instance', idx: r.u32() };
    default:
      throw new UnsupportedComponentError(`unknown extern description 0x${tag.toString(16)}`);
  }
}

function decls(r: Reader, component: boolean): Decl[] {
  return vec(r, () => {
    const tag = r.byte();
    if (tag === 0x00) throw new UnsupportedComponentError('core type declarations in an instance or component type');
    if (tag === 0x01) return { k: 'type', t: readType(r) };
    if (tag === 0x02) return { k: 'alias', a: readAlias(r) };
    if (tag === 0x04) return { k: 'export', name: readExternName(r), desc: readExternDesc(r) };
    if (tag === 0x03 && component) return { k: 'import', name: readExternName(r), desc: readExternDesc(r) };
    throw new UnsupportedComponentError(`unknown declaration 0x${tag.toString(16)}`);
  });
}

export function readType(r: Reader): DefType {
  const b = r.peek();
  // primitive value types: bool (0x7f) .. string (0x73), error-context (0x64)
  if ((b >= 0x73 && b <= 0x7f) || b === 0x64) return { k: 'prim', b: r.byte() };
  r.byte();
  switch (b) {
    case 0x72:
      return { k: 'record', fields: vec(r, () => [r.name(), valType(r)] as [string, ValType]) };
    case 0x71:
      return {
        k: 'variant',
        cases: vec(r, () => {
          const name = r.name();
          const t = optional(r, () => valType(r));
          if (r.byte() !== 0) throw new UnsupportedComponentError('variant case refinement');
          return [name, t] as [string, ValType | null];
        }),
      };
    case 0x70:
      return { k: 'list', t: valType(r) };
    case 0x67:
      return { k: 'list', t: valType(r), len: r.u32() };
    case 0x6f:
      return { k: 'tuple', ts: vec(r, () => valType(r)) };
    case 0x6e:
      return { k: 'flags', names: vec(r, () => r.name()) };
    case 0x6d:
      return { k: 'enum', names: vec(r, () => r.name()) };
    case 0x6b:
      return { k: 'option', t: valType(r) };
    case 0x6a:
      return { k: 'result', ok: optional(r, () => valType(r)), err: optional(r, () => valType(r)) };
    case 0x69:
      return { k: 'own', idx: r.u32() };
    case 0x68:
      return { k: 'borrow', idx: r.u32() };
    case 0x66:
      return { k: 'stream', t: optional(r, () => valType(r)) };
    case 0x65:
      return { k: 'future', t: optional(r, () => valType(r)) };
    case 0x40:
    case 0x43: {
      const params = vec(r, () => [r.name(), valType(r)] as [string, ValType]);
      const tag = r.byte();
      const result = tag === 0 ? { single: valType(r) } : { named: vec(r, () => [r.name(), valType(r)] as [string, ValType]) };
      return { k: 'func', opcode: b, params, result };
    }
    case 0x41:
      return { k: 'component', decls: decls(r, true) };
    case 0x42:
      return { k: 'instance', decls: decls(r, false) };
    case 0x3f: {
      const start = r.pos - 1;
      r.byte(); // representation: i32
      optional(r, () => r.u32());
      return { k: 'resource', raw: r.bytes.slice(start, r.pos) };
    }
    default:
      throw new UnsupportedComponentError(`unknown type form 0x${b.toString(16)}`);
  }
}

// ---- encoding, with references renumbered ----

/**
 * How references are renumbered while encoding: `ref` maps a type index of the level being
 * written; `outer(ct, idx)` maps an outer alias `ct` levels up (the top level maps nothing).
 */
export interface Renumber {
  ref(idx: number): number;
  outer(ct: number, idx: number): number;
}

export const IDENTITY: Renumber = { ref: (i) => i, outer: (_ct, i) => i };

/** Inside a nested instance or component type: its own indices stay; outer aliases reach out. */
function nested(m: Renumber): Renumber {
  return { ref: (i) => i, outer: (ct, i) => (ct === 1 ? m.ref(i) : m.outer(ct - 1, i)) };
}

function writeVal(w: Writer, t: ValType, m: Renumber): void {
  if ('prim' in t) w.byte(t.prim);
  else w.s33(m.ref(t.idx));
}

function writeOptional<T>(w: Writer, v: T | null, f: (v: T) => void): void {
  if (v === null) w.byte(0);
  else {
    w.byte(1);
    f(v);
  }
}

export function writeExternName(w: Writer, n: ExternName): void {
  if (n.version === undefined) w.byte(0).name(n.name);
  else w.byte(1).name(n.name).name(n.version);
}

export function writeSort(w: Writer, s: Sort): void {
  if (s.startsWith('core:')) w.byte(0).byte(Number(s.slice(5)));
  else w.byte(SORT_BYTES[s]);
}

/** `instanceMap` renumbers the instance of an export alias (top level only). */
export function writeAlias(w: Writer, a: Alias, m: Renumber, instanceMap: (i: number) => number = (i) => i): void {
  writeSort(w, a.sort);
  const t = a.target;
  if (t.k === 'export') w.byte(0).u32(instanceMap(t.instance)).name(t.name);
  else if (t.k === 'core-export') w.byte(1).u32(t.instance).name(t.name);
  else w.byte(2).u32(t.ct).u32(a.sort === 'type' ? m.outer(t.ct, t.idx) : t.idx);
}

export function writeExternDesc(w: Writer, d: ExternDesc, m: Renumber): void {
  switch (d.k) {
    case 'module':
      w.byte(0).byte(0x11).u32(d.idx);
      return;
    case 'func':
      w.byte(1).u32(m.ref(d.idx));
      return;
    case 'value':
      w.byte(2).bytes(d.raw);
      return;
    case 'type':
      if (d.eq === null) w.byte(3).byte(1);
      else w.byte(3).byte(0).u32(m.ref(d.eq));
      return;
    case 'component':
      w.byte(4).u32(m.ref(d.idx));
      return;
    case 'instance':
      w.byte(5).u32(m.ref(d.idx));
      return;
  }
}

function writeDecls(w: Writer, ds: Decl[], m: Renumber): void {
  w.u32(ds.length);
  for (const d of ds) writeDecl(w, d, m);
}

/** One declaration of an instance or component type, with `m` the renumbering of that type's level. */
export function writeDecl(w: Writer, d: Decl, m: Renumber): void {
  if (d.k === 'type') {
    w.byte(0x01);
    writeType(w, d.t, m);
  } else if (d.k === 'alias') {
    w.byte(0x02);
    writeAlias(w, d.a, m);
  } else {
    w.byte(d.k === 'export' ? 0x04 : 0x03);
    writeExternName(w, d.name);
    writeExternDesc(w, d.desc, m);
  }
}

export function writeType(w: Writer, t: DefType, m: Renumber): void {
  const val = (v: ValType) => writeVal(w, v, m);
  switch (t.k) {
    case 'prim':
      w.byte(t.b);
      return;
    case 'record':
      w.byte(0x72).u32(t.fields.length);
      for (const [n, v] of t.fields) {
        w.name(n);
        val(v);
      }
      return;
    case 'variant':
      w.byte(0x71).u32(t.cases.length);
      for (const [n, v] of t.cases) {
        w.name(n);
        writeOptional(w, v, val);
        w.byte(0);
      }
      return;
    case 'list':
      if (t.len === undefined) {
        w.byte(0x70);
        val(t.t);
      } else {
        w.byte(0x67);
        val(t.t);
        w.u32(t.len);
      }
      return;
    case 'tuple':
      w.byte(0x6f).u32(t.ts.length);
      for (const v of t.ts) val(v);
      return;
    case 'flags':
    case 'enum':
      w.byte(t.k === 'flags' ? 0x6e : 0x6d).u32(t.names.length);
      for (const n of t.names) w.name(n);
      return;
    case 'option':
      w.byte(0x6b);
      val(t.t);
      return;
    case 'result':
      w.byte(0x6a);
      writeOptional(w, t.ok, val);
      writeOptional(w, t.err, val);
      return;
    case 'own':
    case 'borrow':
      w.byte(t.k === 'own' ? 0x69 : 0x68).u32(m.ref(t.idx));
      return;
    case 'stream':
    case 'future':
      w.byte(t.k === 'stream' ? 0x66 : 0x65);
      writeOptional(w, t.t, val);
      return;
    case 'error-context':
      w.byte(0x64);
      return;
    case 'func':
      w.byte(t.opcode).u32(t.params.length);
      for (const [n, v] of t.params) {
        w.name(n);
        val(v);
      }
      if ('single' in t.result) {
        w.byte(0);
        val(t.result.single);
      } else {
        w.byte(1).u32(t.result.named.length);
        for (const [n, v] of t.result.named) {
          w.name(n);
          val(v);
        }
      }
      return;
    case 'instance':
    case 'component':
      w.byte(t.k === 'instance' ? 0x42 : 0x41);
      writeDecls(w, t.decls, nested(m));
      return;
    case 'resource':
      // A resource with a destructor names a core function: only in a component's own body.
      throw new UnsupportedComponentError('a resource type defined at a component level');
  }
}

/** Whether a declaration adds to the type index space of the type it is in. */
export function declaresType(d: Decl): boolean {
  if (d.k === 'type') return true;
  if (d.k === 'alias') return d.a.sort === 'type';
  return d.desc.k === 'type';
}

export function encodeType(t: DefType, m: Renumber): Uint8Array {
  const w = new Writer();
  writeType(w, t, m);
  return w.finish();
}

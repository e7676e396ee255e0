// Composing two components, as `wasm-tools compose importer -d exporter` does for the real kit
// (kit `build/mod.rs`: importers of a non-standard interface are composed with its exporter):
// the result imports what both import (an import both have is taken once, its instance type the
// union of the two), nests both components, instantiates the exporter, gives its exported
// instances to the importer in place of the imports they satisfy, and exports what the importer
// exports. jco ships no composer, so this builds the outer component's binary itself; the
// import declarations are copied from the two components with their indices renumbered
// (component-types.ts).

import {
  type Alias,
  type Decl,
  type DefType,
  declaresType,
  descSort,
  encodeType,
  type ExternDesc,
  type ExternName,
  IDENTITY,
  readAlias,
  readExternDesc,
  readExternName,
  readSort,
  readType,
  type Renumber,
  type Sort,
  UnsupportedComponentError,
  writeAlias,
  writeDecl,
  writeExternDesc,
  writeExternName,
  writeSort,
} from './component-types.js';
import { componentFromSections, isComponentBinary, Reader, type Section, sections, Writer } from '../core/wasm-binary.js';

type Item = { k: 'type'; t: DefType; idx: number } | { k: 'import'; name: ExternName; desc: ExternDesc; idx: number } | { k: 'alias'; a: Alias; idx: number };

interface Side {
  label: string;
  bytes: Uint8Array;
  items: Item[];
  /** (sort, index in this component) -> the item that defines it. */
  defs: Map<string, Item>;
  /** (sort, index in this component) -> index in the outer component. */
  map: Map<string, number>;
  imports: Array<{ name: ExternName; sort: Sort; idx: number; desc: ExternDesc }>;
  exports: Array<{ name: ExternName; sort: Sort }>;
}

const key = (sort: Sort, idx: number) => `${sort}/${idx}`;

/** The imports and exports of a component: its import declarations, decoded, and its export names. */
function readSide(label: string, bytes: Uint8Array): Side {
  if (!isComponentBinary(bytes)) throw new UnsupportedComponentError(`${label} is not a component`);
  const side: Side = { label, bytes, items: [], defs: new Map(), map: new Map(), imports: [], exports: [] };
  const counts = new Map<Sort, number>();
  const next = (sort: Sort) => {
    const n = counts.get(sort) ?? 0;
    counts.set(sort, n + 1);
    return n;
  };
  let inPreamble = true;
  const add = (item: Item, sort: Sort) => {
    side.items.push(item);
    side.defs.set(key(sort, item.idx), item);
  };
  for (const s of sections(bytes)) {
    if (s.id === 0) continue;
    if (![6, 7, 10].includes(s.id)) inPreamble = false;
    if (s.id === 11) readExports(s, side);
    if (!inPreamble) {
      if (s.id === 10) throw new UnsupportedComponentError(`${label} declares imports after its first definition`);
      continue;
    }
    const r = new Reader(s.body);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      if (s.id === 7) add({ k: 'type', t: readType(r), idx: next('type') }, 'type');
      else if (s.id === 10) {
        const name = readExternName(r);
        const desc = readExternDesc(r);
        const sort = descSort(desc);
        const item: Item = { k: 'import', name, desc, idx: next(sort) };
        add(item, sort);
        side.imports.push({ name, sort, idx: item.idx, desc });
      } else {
        const a = readAlias(r);
        if (a.target.k !== 'export') throw new UnsupportedComponentError(`${label}: an ${a.target.k} alias among its import declarations`);
        add({ k: 'alias', a, idx: next(a.sort) }, a.sort);
      }
    }
  }
  return side;
}

function readExports(s: Section, side: Side): void {
  const r = new Reader(s.body);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const name = readExternName(r);
    const sort = readSort(r);
    r.u32();
    if (r.byte() === 1) readExternDesc(r);
    side.exports.push({ name, sort });
  }
}

/** The top-level type indices a type refers to (its own value types, and outer aliases that reach the top). */
function topRefs(t: DefType, depth = 0, out: number[] = []): number[] {
  const val = (v: { idx: number } | { prim: number } | null) => {
    if (v && 'idx' in v && depth === 0) out.push(v.idx);
  };
  switch (t.k) {
    case 'record':
      for (const [, v] of t.fields) val(v);
      break;
    case 'variant':
      for (const [, v] of t.cases) val(v);
      break;
    case 'list':
    case 'option':
      val(t.t);
      break;
    case 'tuple':
      for (const v of t.ts) val(v);
      break;
    case 'result':
      val(t.ok);
      val(t.err);
      break;
    case 'stream':
    case 'future':
      val(t.t);
      break;
    case 'own':
    case 'borrow':
      if (depth === 0) out.push(t.idx);
      break;
    case 'func':
      for (const [, v] of t.params) val(v);
      if ('single' in t.result) val(t.result.single);
      else for (const [, v] of t.result.named) val(v);
      break;
    case 'instance':
    case 'component':
      for (const d of t.decls) {
        if (d.k === 'type') topRefs(d.t, depth + 1, out);
        else if (d.k === 'alias' && d.a.target.k === 'outer' && d.a.target.ct === depth + 1 && d.a.sort === 'type') out.push(d.a.target.idx);
      }
      break;
  }
  return out;
}

function nameKey(n: ExternName): string {
  return n.version === undefined ? n.name : `${n.name}@@${n.version}`;
}

class Outer {
  readonly sections: Array<{ id: number; body: Uint8Array }> = [];
  private counts = new Map<Sort, number>();
  private shared = new Map<string, { sort: Sort; idx: number }>();
  /** Aliases already made, by (sort, outer instance, name): both components alias the same types of a shared import. */
  private aliases = new Map<string, number>();

  constructor(
    private readonly app: Side,
    private readonly dep: Side,
    private readonly satisfied: Set<string>,
  ) {}

  next(sort: Sort): number {
    const n = this.counts.get(sort) ?? 0;
    this.counts.set(sort, n + 1);
    return n;
  }

  emit(id: number, write: (w: Writer) => void): void {
    const w = new Writer().u32(1);
    write(w);
    this.sections.push({ id, body: w.finish() });
  }

  renumber(side: Side): Renumber {
    return { ref: (i) => this.ensure(side, 'type', i), outer: IDENTITY.outer };
  }

  /** The outer index of `side`'s (sort, idx), emitting its definition (and what that needs) first. */
  ensure(side: Side, sort: Sort, idx: number): number {
    const have = side.map.get(key(sort, idx));
    if (have !== undefined) return have;
    const item = side.defs.get(key(sort, idx));
    if (!item) throw new UnsupportedComponentError(`${side.label}: ${sort} ${idx} is not among its import declarations`);
    this.define(side, item);
    const got = side.map.get(key(sort, idx));
    if (got === undefined) throw new UnsupportedComponentError(`${side.label}: its declarations use the instance it gets from the other component`);
    return got;
  }

  define(side: Side, item: Item): void {
    if (item.k === 'type') {
      if (side.map.has(key('type', item.idx))) return;
      for (const r of topRefs(item.t)) this.ensure(side, 'type', r);
      const m = this.renumber(side);
      this.emit(7, (w) => w.bytes(encodeType(item.t, m)));
      side.map.set(key('type', item.idx), this.next('type'));
    } else if (item.k === 'alias') {
      if (side.map.has(key(item.a.sort, item.idx))) return;
      const t = item.a.target as { k: 'export'; instance: number; name: string };
      const instance = this.ensure(side, 'instance', t.instance);
      const made = `${item.a.sort}/${instance}/${t.name}`;
      let idx = this.aliases.get(made);
      if (idx === undefined) {
        this.emit(6, (w) => writeAlias(w, item.a, IDENTITY, () => instance));
        idx = this.next(item.a.sort);
        this.aliases.set(made, idx);
      }
      side.map.set(key(item.a.sort, item.idx), idx);
    } else this.defineImport(side, item);
  }

  defineImport(side: Side, item: Extract<Item, { k: 'import' }>): void {
    const sort = descSort(item.desc);
    if (side.map.has(key(sort, item.idx))) return;
    const name = nameKey(item.name);
    if (side === this.app && this.satisfied.has(name)) return; // given by the exporter, after both preambles
    const done = this.shared.get(name);
    if (done) {
      side.map.set(key(sort, item.idx), done.idx);
      return;
    }
    const other = side === this.app ? this.dep : this.app;
    const twin = this.satisfied.has(name) ? undefined : other.items.find((i): i is Extract<Item, { k: 'import' }> => i.k === 'import' && nameKey(i.name) === name);
    let desc: ExternDesc;
    let m: Renumber;
    if (twin) {
      if (descSort(twin.desc) !== sort) throw new UnsupportedComponentError(`both components import ${item.name.name}, as different kinds of item`);
      ({ desc, m } = this.mergedDesc(side, item.desc, other, twin.desc, item.name.name));
    } else {
      desc = item.desc;
      if (desc.k !== 'type' && desc.k !== 'value' && desc.k !== 'module') this.ensure(side, 'type', desc.idx);
      if (desc.k === 'type' && desc.eq !== null) this.ensure(side, 'type', desc.eq);
      m = this.renumber(side);
    }
    this.emit(10, (w) => {
      writeExternName(w, item.name);
      writeExternDesc(w, desc, m);
    });
    const idx = this.next(sort);
    this.shared.set(name, { sort, idx });
    side.map.set(key(sort, item.idx), idx);
    if (twin) other.map.set(key(sort, twin.idx), idx);
  }

  /**
   * The type of an import both components have: the same declaration when they agree, else (for
   * instances) one instance type with every export either needs.
   */
  mergedDesc(a: Side, aDesc: ExternDesc, b: Side, bDesc: ExternDesc, name: string): { desc: ExternDesc; m: Renumber } {
    if (aDesc.k !== 'instance' || bDesc.k !== 'instance') {
      const encA = this.encodedDesc(a, aDesc);
      const encB = this.encodedDesc(b, bDesc);
      if (!sameBytes(encA, encB)) throw new UnsupportedComponentError(`both components import ${name} with different types`);
      return { desc: aDesc, m: this.renumber(a) };
    }
    const ta = a.defs.get(key('type', aDesc.idx));
    const tb = b.defs.get(key('type', bDesc.idx));
    if (ta?.k !== 'type' || tb?.k !== 'type' || ta.t.k !== 'instance' || tb.t.k !== 'instance') {
      // instance types reached through aliases: take them as they are only when identical
      const ia = this.ensure(a, 'type', aDesc.idx);
      const ib = this.ensure(b, 'type', bDesc.idx);
      if (ia !== ib) throw new UnsupportedComponentError(`both components import ${name}, typed in ways this composer cannot merge`);
      return { desc: aDesc, m: this.renumber(a) };
    }
    const encA = encodeType(ta.t, this.renumber(a));
    if (sameBytes(encA, encodeType(tb.t, this.renumber(b)))) return { desc: { k: 'instance', idx: this.ensure(a, 'type', aDesc.idx) }, m: IDENTITY };
    const union = unionInstance(ta.t.decls, this.renumber(a), tb.t.decls, this.renumber(b));
    this.emit(7, (w) => w.bytes(union));
    const idx = this.next('type');
    return { desc: { k: 'instance', idx }, m: IDENTITY };
  }

  encodedDesc(side: Side, d: ExternDesc): Uint8Array {
    const w = new Writer();
    if (d.k === 'func' || d.k === 'component' || d.k === 'instance') this.ensure(side, 'type', d.idx);
    writeExternDesc(w, d, this.renumber(side));
    return w.finish();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** An instance type with A's declarations, then those of B's that A lacks (B's types renumbered onto A's). */
function unionInstance(aDecls: Decl[], mA: Renumber, bDecls: Decl[], mB: Renumber): Uint8Array {
  const inner = (m: Renumber, ref: (i: number) => number): Renumber => ({ ref, outer: (ct, i) => (ct === 1 ? m.ref(i) : m.outer(ct - 1, i)) });
  const aTypes = new Map<string, number>();
  const aOthers = new Set<string>();
  let local = 0;
  for (const d of aDecls) {
    if (d.k === 'export') (d.desc.k === 'type' ? aTypes.set(d.name.name, local) : aOthers.add(d.name.name));
    if (declaresType(d)) local++;
  }
  const bLocal: number[] = [];
  const fromB: Decl[] = [];
  for (const d of bDecls) {
    const introduces = declaresType(d);
    if (d.k === 'export' && d.desc.k === 'type' && aTypes.has(d.name.name)) {
      bLocal.push(aTypes.get(d.name.name)!);
      continue;
    }
    if (d.k === 'export' && d.desc.k !== 'type' && aOthers.has(d.name.name)) continue;
    fromB.push(d);
    if (introduces) bLocal.push(local++);
  }
  const w = new Writer().byte(0x42).u32(aDecls.length + fromB.length);
  const aM = inner(mA, (i) => i);
  for (const d of aDecls) writeDecl(w, d, aM);
  const bM = inner(mB, (i) => {
    const to = bLocal[i];
    if (to === undefined) throw new UnsupportedComponentError('an instance type refers to a type declared after it');
    return to;
  });
  for (const d of fromB) writeDecl(w, d, bM);
  return w.finish();
}

/** The non-standard interfaces a component imports and exports (not wasi:*, not hyperware:process/standard, not init). */
export function nonStandardInterfaces(bytes: Uint8Array): { imports: string[]; exports: string[] } {
  const side = readSide('component', bytes);
  const standard = (n: string) => n.startsWith('wasi:') || n.startsWith('hyperware:process/standard');
  return {
    imports: side.imports.filter((i) => i.sort === 'instance' && !standard(i.name.name)).map((i) => i.name.name),
    exports: side.exports.filter((e) => e.sort === 'instance' && !standard(e.name.name)).map((e) => e.name.name),
  };
}

/**
 * `importer` with the imports `exporter` exports satisfied by a nested instance of `exporter`.
 * Returns the names satisfied with the composed component.
 */
export function compose(importer: Uint8Array, exporter: Uint8Array): { bytes: Uint8Array; satisfied: string[] } {
  const app = readSide('the importing component', importer);
  const dep = readSide('the exporting component', exporter);
  const exported = new Set(dep.exports.filter((e) => e.sort === 'instance').map((e) => nameKey(e.name)));
  const satisfied = new Set(app.imports.filter((i) => i.sort === 'instance' && exported.has(nameKey(i.name))).map((i) => nameKey(i.name)));
  if (satisfied.size === 0) return { bytes: importer, satisfied: [] };
  const outer = new Outer(app, dep, satisfied);
  for (const item of app.items) outer.define(app, item);
  for (const item of dep.items) outer.define(dep, item);

  const depComponent = outer.next('component');
  outer.sections.push({ id: 4, body: exporter });
  const appComponent = outer.next('component');
  outer.sections.push({ id: 4, body: importer });
  const instantiate = (component: number, args: Array<{ name: string; sort: Sort; idx: number }>) => {
    outer.emit(5, (w) => {
      w.byte(0x00).u32(component).u32(args.length);
      for (const a of args) {
        w.name(a.name);
        writeSort(w, a.sort);
        w.u32(a.idx);
      }
    });
    return outer.next('instance');
  };
  const depInstance = instantiate(
    depComponent,
    dep.imports.map((i) => ({ name: i.name.name, sort: i.sort, idx: outer.ensure(dep, i.sort, i.idx) })),
  );
  for (const i of app.imports) {
    if (!satisfied.has(nameKey(i.name))) continue;
    outer.emit(6, (w) => writeAlias(w, { sort: 'instance', target: { k: 'export', instance: depInstance, name: i.name.name } }, IDENTITY));
    app.map.set(key(i.sort, i.idx), outer.next('instance'));
  }
  const appInstance = instantiate(
    appComponent,
    app.imports.map((i) => ({ name: i.name.name, sort: i.sort, idx: outer.ensure(app, i.sort, i.idx) })),
  );
  for (const e of app.exports) {
    outer.emit(6, (w) => writeAlias(w, { sort: e.sort, target: { k: 'export', instance: appInstance, name: e.name.name } }, IDENTITY));
    const idx = outer.next(e.sort);
    outer.emit(11, (w) => {
      writeExternName(w, e.name);
      writeSort(w, e.sort);
      w.u32(idx).byte(0);
    });
  }
  return { bytes: componentFromSections(outer.sections), satisfied: [...satisfied] };
}

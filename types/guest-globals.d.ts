// The globals a Hyperware process written in JavaScript or TypeScript may use, besides the
// ECMAScript library: the web APIs StarlingMonkey (the engine componentize-js embeds) provides
// without any WASI feature. No DOM, no Node, no fetch. `kit build` type-checks with this file, and
// the tsconfig.json that `kit new` writes includes it (through .kit/kit) for editors.
declare var console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};
declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function queueMicrotask(callback: () => void): void;
declare function structuredClone<T>(value: T): T;
declare class URL {
  constructor(url: string, base?: string | URL);
  href: string; origin: string; protocol: string; host: string; hostname: string; port: string;
  pathname: string; search: string; hash: string; readonly searchParams: URLSearchParams;
  toString(): string; toJSON(): string;
}
declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | Array<[string, string]>);
  get(name: string): string | null; getAll(name: string): string[]; has(name: string): boolean;
  set(name: string, value: string): void; append(name: string, value: string): void; delete(name: string): void;
  toString(): string; forEach(cb: (value: string, key: string) => void): void;
}

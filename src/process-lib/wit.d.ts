// The host interface a component imports (wit/hyperware.wit, interface `standard`). The bundler keeps
// this specifier external and componentize-js resolves it; host.ts gives it types.
declare module 'hyperware:process/standard@1.0.0';

// Placeholder replacement (interop §4.3): the worked example, every spelling of the names, and
// the one deliberate difference for .ts/.js files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dottedKebab,
  dottedSnake,
  dottedUpperCamel,
  replacePlaceholders,
  upperCamel,
  worldName,
} from '../../src/templates/placeholders.js';

const chat = { template: 'chat', packageName: 'my-app', publisher: 'foo.os' };
const r = (text: string, path: string, naming = chat) => replacePlaceholders(text, path, naming);

test('the worked example of interop §4.3', () => {
  assert.equal(r('api/chat:template.os-v0.wit', 'api/chat:template.os-v0.wit'), 'api/my-app:foo.os-v0.wit');
  assert.equal(r('world chat-template-dot-os-v0 {', 'api/x.wit'), 'world my-app-foo-dot-os-v0 {');
  assert.equal(r('test/chat-test/pkg/manifest.json', 'test/chat-test/pkg/manifest.json'), 'test/my-app-test/pkg/manifest.json');
  assert.equal(r('"process_wasm_path": "/chat.wasm"', 'pkg/manifest.json'), '"process_wasm_path": "/my-app.wasm"');
  assert.equal(r('"chat:chat:template.os"', 'pkg/scripts.json'), '"my-app:my-app:foo.os"');
  assert.equal(r('use crate::hyperware::process::chat::{', 'chat/src/lib.rs'), 'use crate::hyperware::process::my_app::{');
});

test('identifiers keep their case style; publishers get their dotted forms', () => {
  assert.equal(r('interface ChatMessage {}', 'x/src/lib.ts'), 'interface MyAppMessage {}');
  assert.equal(r('let chat_test = 1;', 'x/src/lib.ts'), 'let my_app_test = 1;');
  assert.equal(r('template_dot_os TemplateDotOs', 'x.rs'), 'foo_dot_os FooDotOs');
  const fib = { template: 'fibonacci', packageName: 'my-app', publisher: 'a.b.os' };
  assert.equal(r('function fibonacci(n) { return fibonacci(n - 1); }', 'f/src/lib.js', fib), 'function my_app(n) { return my_app(n - 1); }');
  assert.equal(r('world fibonacci-template-dot-os-v0', 'api/f.wit', fib), 'world my-app-a-dot-b-dot-os-v0');
});

test('.ts and .js get the plain rules, so process IDs stay Hypermap-safe', () => {
  // kit itself would write my_app:my_app:foo.os here (see placeholders.ts).
  assert.equal(r("processId('chat:chat:template.os')", 'chat/src/lib.ts'), "processId('my-app:my-app:foo.os')");
  assert.equal(r("'file-transfer-worker.wasm'", 'a/src/lib.js', { template: 'file-transfer', packageName: 'x', publisher: 'p.os' }), "'x-worker.wasm'");
});

test('replaced text is not scanned again', () => {
  // The new name contains the old one: a re-scan would grow it forever.
  assert.equal(r('chat chat-test', 'a.json', { template: 'chat', packageName: 'chat-chat', publisher: 'template.os' }), 'chat-chat chat-chat-test');
});

test('name helpers', () => {
  assert.equal(upperCamel('file-transfer'), 'FileTransfer');
  assert.equal(dottedSnake('my-pub.os'), 'my_pub_dot_os');
  assert.equal(dottedKebab('my_pub.os'), 'my-pub-dot-os');
  assert.equal(dottedUpperCamel('foo.os'), 'FooDotOs');
  assert.equal(worldName('chat', 'template.os'), 'chat-template-dot-os-v0');
});

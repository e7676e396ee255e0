// Names of things: ProcessId, PackageId, Address. The shapes are the WIT records (the same objects
// the host functions take); the string forms are `process:package:publisher` and
// `node@process:package:publisher`.

import {
  type Address,
  addressToString,
  type PackageId,
  type ProcessId,
  packageIdToString,
  parseAddress,
  parseProcessId,
  processIdToString,
} from '../core/types.js';

export type { Address, PackageId, ProcessId };
export {
  addressToString,
  IdParseError,
  isSafeName,
  packageIdToString,
  parseAddress,
  parsePackageId,
  parseProcessId,
  processIdToString,
  safeNameRule,
  sameAddress,
  sameProcess,
} from '../core/types.js';

/** `processId('chat', 'chat', 'template.os')`, or `processId('chat:chat:template.os')`. */
export function processId(nameOrId: string, packageName?: string, publisherNode?: string): ProcessId {
  if (packageName === undefined) return parseProcessId(nameOrId);
  if (publisherNode === undefined) throw new TypeError('processId(name, package, publisher) needs all three parts');
  return { processName: nameOrId, packageName, publisherNode };
}

/** `address('fake.dev', 'chat:chat:template.os')` or `address('fake.dev', processId)`, or one string. */
export function address(nodeOrAddress: string, process?: ProcessId | string): Address {
  if (process === undefined) return parseAddress(nodeOrAddress);
  return { node: nodeOrAddress, process: typeof process === 'string' ? parseProcessId(process) : process };
}

/** An Address from its string form, or the Address itself. */
export function toAddress(target: Address | string): Address {
  return typeof target === 'string' ? parseAddress(target) : target;
}

/** The package a process belongs to. */
export function packageOf(p: ProcessId | Address): PackageId {
  const id = 'process' in p ? p.process : p;
  return { packageName: id.packageName, publisherNode: id.publisherNode };
}

/** A sibling in the same package: `inPackage(our, 'worker')` is `worker:<our package>:<our publisher>`. */
export function inPackage(of: ProcessId | Address, processName: string): ProcessId {
  const pkg = packageOf(of);
  return { processName, packageName: pkg.packageName, publisherNode: pkg.publisherNode };
}

/** A runtime module's ID, `<name>:distro:sys`. */
export function systemProcessId(name: string): ProcessId {
  return { processName: name, packageName: 'distro', publisherNode: 'sys' };
}

/** A runtime module on a node, e.g. `moduleAddress(our.node, 'vfs')` is `<node>@vfs:distro:sys`. */
export function moduleAddress(node: string, name: string): Address {
  return { node, process: systemProcessId(name) };
}

/** Strings for logs and JSON: an Address, ProcessId or PackageId in its text form. */
export function idString(id: Address | ProcessId | PackageId): string {
  if ('node' in id) return addressToString(id);
  if ('processName' in id) return processIdToString(id);
  return packageIdToString(id);
}

/** The PackageId as the runtime modules' JSON has it: `{"package_name", "publisher_node"}`. */
export function packageIdJson(p: PackageId): { package_name: string; publisher_node: string } {
  return { package_name: p.packageName, publisher_node: p.publisherNode };
}

/**
 * An Address as WIT-generated serde types write it (the form package APIs use in JSON bodies):
 * `{"node", "process": {"process_name", "package_name", "publisher_node"}}`.
 */
export interface WitAddressJson {
  node: string;
  process: { process_name: string; package_name: string; publisher_node: string };
}

export function addressToWitJson(a: Address): WitAddressJson {
  return {
    node: a.node,
    process: {
      process_name: a.process.processName,
      package_name: a.process.packageName,
      publisher_node: a.process.publisherNode,
    },
  };
}

export function addressFromWitJson(j: WitAddressJson): Address {
  return {
    node: j.node,
    process: {
      processName: j.process.process_name,
      packageName: j.process.package_name,
      publisherNode: j.process.publisher_node,
    },
  };
}

// Whether a pid names a running process: lock files (a node's home, componentize's work dirs) and
// kit connect's tunnel records are only as good as this check.

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: no signal sent, only the check
    return true;
  } catch (e) {
    // EPERM: it exists, under another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

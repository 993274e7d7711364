// syscall_args.ts: a refused syscall's arguments, as the monitor saw them, decoded into words for
// violation errors (flags by name where that is what decides), with the grant that would allow
// the call where one exists.

type Flags = ReadonlyArray<readonly [bigint, string]>;

const PROT: Flags = [[0x1n, 'PROT_READ'], [0x2n, 'PROT_WRITE'], [0x4n, 'PROT_EXEC']];
const MAP: Flags = [[0x1n, 'MAP_SHARED'], [0x2n, 'MAP_PRIVATE'], [0x10n, 'MAP_FIXED'], [0x20n, 'MAP_ANONYMOUS'],
  [0x100n, 'MAP_GROWSDOWN'], [0x2000n, 'MAP_LOCKED'], [0x4000n, 'MAP_NORESERVE'], [0x8000n, 'MAP_POPULATE'],
  [0x10000n, 'MAP_NONBLOCK'], [0x20000n, 'MAP_STACK'], [0x40000n, 'MAP_HUGETLB'], [0x100000n, 'MAP_FIXED_NOREPLACE']];
const CLONE: Flags = [[0x100n, 'CLONE_VM'], [0x200n, 'CLONE_FS'], [0x400n, 'CLONE_FILES'], [0x800n, 'CLONE_SIGHAND'],
  [0x1000n, 'CLONE_PIDFD'], [0x2000n, 'CLONE_PTRACE'], [0x4000n, 'CLONE_VFORK'], [0x8000n, 'CLONE_PARENT'],
  [0x10000n, 'CLONE_THREAD'], [0x20000n, 'CLONE_NEWNS'], [0x40000n, 'CLONE_SYSVSEM'], [0x80000n, 'CLONE_SETTLS'],
  [0x100000n, 'CLONE_PARENT_SETTID'], [0x200000n, 'CLONE_CHILD_CLEARTID'], [0x800000n, 'CLONE_UNTRACED'],
  [0x1000000n, 'CLONE_CHILD_SETTID'], [0x2000000n, 'CLONE_NEWCGROUP'], [0x4000000n, 'CLONE_NEWUTS'],
  [0x8000000n, 'CLONE_NEWIPC'], [0x10000000n, 'CLONE_NEWUSER'], [0x20000000n, 'CLONE_NEWPID'], [0x40000000n, 'CLONE_NEWNET']];
const AF: Record<number, string> = { 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET', 40: 'AF_VSOCK' };
const SOCK: Record<number, string> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };
const SIGNALS: Record<number, string> = { 0: '0 (a probe)', 9: 'SIGKILL', 15: 'SIGTERM', 19: 'SIGSTOP', 6: 'SIGABRT' };
const PTRACE: Record<number, string> = { 0: 'PTRACE_TRACEME', 16: 'PTRACE_ATTACH', 0x4206: 'PTRACE_SEIZE' };

function flags(v: bigint, table: Flags): string {
  const names: string[] = [];
  let rest = v;
  for (const [bit, name] of table) {
    if ((v & bit) !== 0n) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.length > 0 ? names.join('|') : '0';
}

const int = (v: bigint) => String(BigInt.asIntN(32, v));
const named = (v: bigint, table: Record<number, string>) => table[Number(BigInt.asIntN(32, v))] ?? int(v);

/** The call's arguments in words and, where one exists, what would allow it. */
export interface DecodedCall {
  /** e.g. "mmap(addr 0x0, len 4096, prot PROT_READ|PROT_WRITE|PROT_EXEC, flags MAP_PRIVATE|MAP_ANONYMOUS, fd -1, off 0)" */
  call: string;
  /** Why the boundary refuses it, or the grant that would allow it; empty when nothing is known. */
  hint: string;
}

/** Decodes `args` (the six registers, as hex strings) of syscall `name`. */
export function decodeSyscall(name: string, args: readonly string[]): DecodedCall {
  const a = args.map((x) => { try { return BigInt(x); } catch { return 0n; } });
  while (a.length < 6) a.push(0n);
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  switch (name) {
    case 'mmap': {
      const prot = a[2], map = a[3];
      const hint = (prot & 0x6n) === 0x6n ? 'memory both writable and executable is never allowed (W^X)'
        : (prot & 0x4n) !== 0n && (map & 0x20n) !== 0n ? 'anonymous executable memory is never allowed (W^X)'
        : (prot & 0x4n) !== 0n ? 'executable file mappings are allowed only while the plugin loads (its libraries)'
        : (map & 0x40000n) !== 0n ? 'huge pages (MAP_HUGETLB) are refused' : '';
      return { call: `mmap(addr ${hex(a[0])}, len ${a[1]}, prot ${flags(prot, PROT)}, flags ${flags(map, MAP)}, fd ${int(a[4])}, off ${a[5]})`, hint };
    }
    case 'mprotect':
    case 'pkey_mprotect':
      return { call: `${name}(addr ${hex(a[0])}, len ${a[1]}, prot ${flags(a[2], PROT)})`,
        hint: (a[2] & 0x4n) !== 0n ? 'making memory executable is never allowed (W^X)' : '' };
    case 'clone': {
      const threadish = (a[0] & 0x10000n) !== 0n;
      return { call: `clone(flags ${flags(a[0], CLONE)}, stack ${hex(a[1])})`,
        hint: (a[0] & 0x7e020000n) !== 0n ? 'new namespaces are never allowed'
          : threadish ? 'threads need policy.threads' : 'new processes are never allowed' };
    }
    case 'socket':
    case 'socketpair':
      return { call: `${name}(domain ${named(a[0], AF)}, type ${named(a[1] & 0xfn, SOCK)}, protocol ${int(a[2])})`,
        hint: 'no grant allows sockets' };
    case 'kill':
    case 'tgkill':
    case 'rt_sigqueueinfo':
    case 'rt_tgsigqueueinfo': {
      const sig = name === 'kill' ? a[1] : name === 'tgkill' ? a[2] : name === 'rt_sigqueueinfo' ? a[1] : a[2];
      return { call: `${name}(pid ${int(a[0])}${name.includes('tg') ? `, tid ${int(a[1])}` : ''}, sig ${named(sig, SIGNALS)})`,
        hint: 'a plugin may signal only its own process' };
    }
    case 'ptrace':
      return { call: `ptrace(request ${named(a[0], PTRACE)}, pid ${int(a[1])})`, hint: 'tracing is never allowed' };
    case 'execve':
    case 'execveat':
      return { call: `${name}(...)`, hint: 'running programs is never allowed' };
    default:
      return { call: `${name}(${a.map(hex).join(', ')})`, hint: '' };
  }
}

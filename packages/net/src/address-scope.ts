/**
 * The scope under which an IP address is counted by per-address caps (the kernel's
 * `maxSessionsPerAddress`, the relay's `maxConnectionsPerIp`).
 *
 * - IPv4 (`203.0.113.7`): the address itself.
 * - IPv4-mapped IPv6 (`::ffff:203.0.113.7`, how a dual-stack socket shows an IPv4 peer):
 *   the IPv4 address, so one host is one scope on either stack.
 * - IPv6: its /64 prefix, as `2001:db8:0:1::/64`. A /64 is what one subscriber or one
 *   LAN gets (RFC 6177, RFC 7934), and a host may pick any of its 2^64 addresses: counting
 *   whole IPv6 addresses would cap nothing. Zone ids (`%eth0`) and brackets are dropped.
 * - Anything else (a hostname, a label such as the relay's `swarm/<ip>`, whose IP part is
 *   scoped the same way): returned as it is, after the label.
 *
 * Pure string work (no `node:net`), so it runs in browsers too.
 */
export function addressScope(address: string): string {
  const slash = address.indexOf('/')
  if (slash >= 0 && !address.slice(0, slash).includes(':')) {
    // A label prefix such as `swarm/`: scope the IP part after it.
    return address.slice(0, slash + 1) + addressScope(address.slice(slash + 1))
  }
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  const zone = ip.indexOf('%')
  if (zone >= 0) ip = ip.slice(0, zone)
  if (!ip.includes(':')) return address
  const groups = ipv6Groups(ip)
  if (!groups) return address
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  if (mapped) return mapped[1]!
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** The 8 groups of an IPv6 address (lowercase, no leading zeros), or `undefined` if it is not one. */
function ipv6Groups(ip: string): string[] | undefined {
  const halves = ip.toLowerCase().split('::')
  if (halves.length > 2) return undefined
  const parse = (part: string) => (part === '' ? [] : part.split(':'))
  const head = parse(halves[0]!)
  const tail = halves.length === 2 ? parse(halves[1]!) : []
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) counts as two groups.
  const last = tail.length > 0 ? tail : head
  if (last.length > 0 && last[last.length - 1]!.includes('.')) last.splice(-1, 1, '0', '0')
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  for (const group of groups) if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined
  return groups.map((group) => Number.parseInt(group, 16).toString(16))
}

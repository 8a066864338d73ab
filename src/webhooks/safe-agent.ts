/**
 * The HTTP client of status webhooks, which go to addresses users choose: no
 * request forgery into the deployment's own network. The address is checked
 * where the socket is opened, after DNS resolution (so a name that resolves,
 * or later re-resolves, to 127.0.0.1 is refused as the literal is), against
 * every range ipaddr.js does not call public unicast: loopback, private,
 * link-local (169.254.169.254, the cloud metadata address), unique-local
 * (fd00:ec2::254), carrier-grade NAT, multicast, reserved, and IPv4-mapped,
 * NAT64 or 6to4 IPv6 forms of any of these. Only with WEBHOOK_ALLOW_PRIVATE
 * (the loopback trial, the tests) are they allowed.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { Agent, buildConnector } from 'undici'

/** Why an address is refused, or undefined when it is public unicast. */
export function forbiddenRange (address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address'
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  const range = parsed.range()
  return range === 'unicast' ? undefined : range
}

/** A connection refused for its address: the attempt records this message, and nothing was sent. */
export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError'
  readonly code = 'WEBHOOK_FORBIDDEN_ADDRESS'
}

/** The address a host name (or literal) resolves to, or a ForbiddenAddressError if any of its addresses is not public. */
export async function allowedAddress (hostname: string, allowPrivate: boolean): Promise<{ address: string, family: number }> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1')
  const addresses = isIP(host) === 0 ? await lookup(host, { all: true }) : [{ address: host, family: isIP(host) }]
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`)
  if (!allowPrivate) {
    // Every address, not only the one used: a name that mixes public and private ones is a rebinding trick.
    for (const { address } of addresses) {
      const range = forbiddenRange(address)
      if (range !== undefined) {
        throw new ForbiddenAddressError(`${host} resolves to ${address} (${range}): status webhooks go only to public addresses (WEBHOOK_ALLOW_PRIVATE is off)`)
      }
    }
  }
  return addresses[0]!
}

export interface SafeAgentOptions {
  allowPrivate: boolean
  connectTimeoutMs: number
  /** Connections per origin: one endpoint cannot open more. */
  connections: number
}

/** An undici Agent whose every connection goes to a checked address (TLS still verifies the name). */
export function createSafeAgent (options: SafeAgentOptions): Agent {
  const connectTo = buildConnector({ timeout: options.connectTimeoutMs })
  const connect: buildConnector.connector = (connectOptions, callback) => {
    allowedAddress(connectOptions.hostname, options.allowPrivate).then(({ address }) => {
      connectTo({ ...connectOptions, hostname: address }, callback)
    }, (err: Error) => { callback(err, null) })
  }
  return new Agent({ connect, connections: options.connections, keepAliveTimeout: 4_000 })
}

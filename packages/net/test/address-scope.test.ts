import { expect, it } from 'vitest'
import { addressScope } from '../src/index.ts'

it.each([
  ['203.0.113.7', '203.0.113.7'],
  ['::ffff:203.0.113.7', '203.0.113.7'],
  ['::FFFF:203.0.113.7', '203.0.113.7'],
  ['2001:db8:0:1::1', '2001:db8:0:1::/64'],
  ['2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:db8:0:1::/64'],
  ['[2001:db8::7]', '2001:db8:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
  ['swarm/2001:db8:0:1::42', 'swarm/2001:db8:0:1::/64'],
  ['swarm/203.0.113.7', 'swarm/203.0.113.7'],
  ['example.org', 'example.org'],
  ['1:2:3', '1:2:3'], // not an address: as it is
  ['1::2::3', '1::2::3'],
  ['12345::1', '12345::1'],
])('addressScope(%s) is %s', (address, scope) => {
  expect(addressScope(address)).toBe(scope)
})

it('two hosts of one /64 share a scope; neighbouring /64s do not', () => {
  expect(addressScope('2001:db8:0:1:a::1')).toBe(addressScope('2001:db8:0:1:b::2'))
  expect(addressScope('2001:db8:0:1::1')).not.toBe(addressScope('2001:db8:0:2::1'))
})

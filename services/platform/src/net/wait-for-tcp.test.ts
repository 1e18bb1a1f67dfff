import { describe, expect, test } from '@jest/globals';
import { parseAddress } from './wait-for-tcp.ts';

describe('parseAddress', () => {
  test('reads host:port, DNS names and bracketed IPv6', () => {
    expect(parseAddress('postgres-user:5432')).toEqual({ host: 'postgres-user', port: 5432 });
    expect(parseAddress('kafka.shop.svc.cluster.local:9092')).toEqual({
      host: 'kafka.shop.svc.cluster.local',
      port: 9092,
    });
    expect(parseAddress('[::1]:6379')).toEqual({ host: '::1', port: 6379 });
  });

  test('names what is not an address', () => {
    expect(() => parseAddress('kafka')).toThrow('not a host:port address: kafka');
    expect(() => parseAddress('kafka:0')).toThrow('not a host:port address');
    expect(() => parseAddress('kafka:99999')).toThrow('not a host:port address');
  });
});

import { describe, expect, test } from '@jest/globals';
import { baseConfigSchema, ConfigError, loadConfig } from './load-config.ts';

describe('loadConfig', () => {
  test('When variables are missing or wrong, then the error names each of them', () => {
    const load = () => loadConfig(baseConfigSchema, { APP_ID: 'user', PORT: 'eighty' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/DATABASE_URL: missing/);
    expect(load).toThrow(/PORT: /);
  });

  test('When the environment is valid, then defaults fill the rest', () => {
    const config = loadConfig(baseConfigSchema, {
      APP_ID: 'user',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/shop_user',
      MIGRATE_ON_START: 'true',
    });
    expect(config).toMatchObject({
      APP_ID: 'user',
      PORT: 3000,
      DAPR_HTTP_PORT: 3500,
      MIGRATE_ON_START: true,
    });
  });

  test('When the database URL is not Postgres, then it is refused', () => {
    expect(() => loadConfig(baseConfigSchema, { APP_ID: 'user', DATABASE_URL: 'mysql://x/y' })).toThrow(
      /DATABASE_URL/,
    );
  });
});

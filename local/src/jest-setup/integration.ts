import { ensurePlatform } from './platform.ts';

/** The integration suite's globalSetup: real Postgres and Redis (and the rest of the infrastructure). */
export default () => ensurePlatform('infra');

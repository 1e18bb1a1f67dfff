import { stopPlatform } from './platform.ts';

/** The globalTeardown of the suites that start the platform: stops what their setup started. */
export default stopPlatform;

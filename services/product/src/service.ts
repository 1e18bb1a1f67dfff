import type { ServiceDefinition } from '@shop/platform';

/** Skeleton: health, its own database and sidecar; the domain comes with its own issue. */
export const productService: ServiceDefinition = {
  build: () => ({}),
};

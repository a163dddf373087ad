import type { StoreAdapter } from './adapter.js';
import { cephRgwAdapter } from './ceph-rgw.js';
import { minioAdapter } from './minio.js';
import { cloudianAdapter, genericS3Adapter } from './s3-generic.js';
import { CsdriftError } from '../core/errors.js';

const simulator: StoreAdapter = {
  skipReason: 'Simulator store: no real store behind it, nothing to compare',
  capabilities: [],
  notApplicable: {},
  connect() {
    throw new CsdriftError('the Simulator store is never scanned');
  },
};

/** Chosen by object_store.object_provider_name; any unknown provider is treated as plain S3. */
export function adapterFor(provider: string): StoreAdapter {
  switch (provider) {
    case 'Ceph':
      return cephRgwAdapter;
    case 'MinIO':
      return minioAdapter;
    case 'Cloudian HyperStore':
      return cloudianAdapter;
    case 'Simulator':
      return simulator;
    default:
      return genericS3Adapter;
  }
}

import { isActive, ownerText, storeRef } from '../model.js';
import type { StoreRef } from '../model.js';
import { defineRule } from './rule.js';

/**
 * The providers whose drivers set `bucket.bucket_url` to `object_store.url + "/" + name` once, at
 * createBucket (MinIOObjectStoreDriverImpl, CephObjectStoreDriverImpl), and never again: a store
 * moved to a new address (updateObjectStoragePool) leaves every older bucket showing the old one.
 */
const URL_FROM_STORE = new Set(['MinIO', 'Ceph']);

/** The address a bucket URL must start with: the store's as CloudStack records it, without a trailing `/`. */
function base(store: StoreRef & { recordedUrl?: string }): string | undefined {
  return store.recordedUrl?.replace(/\/+$/, '') || undefined;
}

export const bucketUrlStale = defineRule({
  id: 'bucket-url-stale',
  defaultSeverity: 'low',
  summary:
    "An active bucket's URL in CloudStack no longer starts with its store's current URL: users are shown an old address.",
  when: "`bucket.bucket_url` of an active row does not start with its store's `object_store.url` (MinIO and Ceph, whose drivers set it once, at creation, from that URL)",
  whatToDo:
    "rewrite the row's `bucket_url` from the store's URL (SQL in the finding); point users of the old address at the new one",
  reads: 'DB `bucket.bucket_url`, `object_store.url`',
  needs: 'db',
  coverage: (view) =>
    URL_FROM_STORE.has(view.store.provider) && base(view.store) ? 'verified' : 'not_applicable',
  evaluate(view) {
    const prefix = base(view.store);
    if (!prefix || !URL_FROM_STORE.has(view.store.provider)) return [];
    return view.dbBuckets
      .filter(isActive)
      .filter((b) => b.bucketUrl && !b.bucketUrl.startsWith(`${prefix}/`))
      .map((bucket) => ({
        store: storeRef(view.store),
        bucket: bucket.name,
        dbBucket: bucket,
        message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is shown at ${bucket.bucketUrl ?? ''} in CloudStack, but store ${view.store.name} is now at ${prefix}.`,
        evidence: { bucketUrl: bucket.bucketUrl, storeUrl: prefix, expected: `${prefix}/${bucket.name}` },
        remediation: {
          summary:
            "CloudStack sets a bucket's URL once, when it is created: the store has moved since, and the UI and listBuckets still give the old address.",
          steps: [
            `Rewrite the row's URL from the store's (no value is typed in, so nothing needs quoting): \`UPDATE bucket b JOIN object_store s ON s.id = b.object_store_id SET b.bucket_url = CONCAT(TRIM(TRAILING '/' FROM s.url), '/', b.name) WHERE b.id = ${bucket.id} AND b.removed IS NULL;\``,
            "Tell the bucket's users the new address if they kept the old one (tools, scripts, SDK endpoints).",
            `Verify: cmk list buckets id=${bucket.uuid ?? bucket.id} listall=true shows a url under ${prefix}, and the next audit no longer reports it.`,
          ],
        },
      }));
  },
});

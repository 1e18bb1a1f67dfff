/** Topic names; they match components/subscriptions.yaml and the chart. */
export const USER_EVENTS = 'user-events';
export const COUPON_EVENTS = 'coupon-events';

export const CouponEventType = {
  CouponIssued: 'CouponIssued',
  CouponIssueRejected: 'CouponIssueRejected',
  CouponUsed: 'CouponUsed',
  CouponRestored: 'CouponRestored',
} as const;

/** Actor types hosted by this service; daprd learns them from /dapr/config. */
export const COUPON_QUOTA_ACTOR = 'CouponQuotaActor';

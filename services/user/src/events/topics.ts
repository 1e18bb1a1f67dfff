/** Topic names; they match components/subscriptions.yaml and the chart. */
export const USER_EVENTS = 'user-events';

export const UserEventType = {
  UserRegistered: 'UserRegistered',
  PointsCharged: 'PointsCharged',
  PointsUsed: 'PointsUsed',
  PointsRefunded: 'PointsRefunded',
} as const;

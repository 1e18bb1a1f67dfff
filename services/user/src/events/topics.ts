/** Topic names; they match components/subscriptions.yaml and the chart. */
export const USER_EVENTS = 'user-events';

export const UserEventType = {
  UserRegistered: 'UserRegistered',
  /** A paid top-up credited. */
  PointsCharged: 'PointsCharged',
  /** Points given by an admin or an operator, with a reason. */
  PointsGranted: 'PointsGranted',
  PointsUsed: 'PointsUsed',
  PointsRefunded: 'PointsRefunded',
} as const;

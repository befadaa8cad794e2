// The chat's per-room state: bounded history, presence by user, forgetting idle rooms; and the
// per-user token bucket.
import { describe, expect, it } from 'vitest';
import { MemoryChatRooms } from '../../src/server/chat/chat-rooms.ts';
import { RateLimiter } from '../../src/server/chat/rate-limiter.ts';

describe('MemoryChatRooms', () => {
  it('keeps the last historySize messages per room, oldest first, with increasing ids', () => {
    let now = 1000;
    const rooms = new MemoryChatRooms({ historySize: 3, maxRooms: 10, now: () => now++ });
    for (let i = 0; i < 5; i++) rooms.post('lobby', 'ann', `m${i}`);
    rooms.post('other', 'bob', 'elsewhere');
    const history = rooms.join('lobby', 'cid');
    expect(history.map((message) => message.text)).toEqual(['m2', 'm3', 'm4']);
    expect(history.map((message) => message.id)).toEqual([3, 4, 5]);
    expect(history.every((message) => message.user === 'ann')).toBe(true);
  });

  it('lists each user once however many connections, until the last one leaves', () => {
    const rooms = new MemoryChatRooms({ historySize: 10, maxRooms: 10 });
    rooms.join('lobby', 'zoe');
    rooms.join('lobby', 'ann');
    rooms.join('lobby', 'ann');
    expect(rooms.members('lobby')).toEqual(['ann', 'zoe']);
    rooms.leave('lobby', 'ann');
    expect(rooms.members('lobby')).toEqual(['ann', 'zoe']);
    rooms.leave('lobby', 'ann');
    expect(rooms.members('lobby')).toEqual(['zoe']);
    expect(rooms.activeRooms()).toEqual([{ room: 'lobby', members: 1 }]);
    rooms.leave('lobby', 'zoe');
    expect(rooms.roomCount).toBe(0); // no one there and no history: forgotten
    rooms.leave('never-joined', 'x'); // harmless
  });

  it('forgets the least recently used empty rooms beyond maxRooms, never a room with people in it', () => {
    let now = 0;
    const rooms = new MemoryChatRooms({ historySize: 5, maxRooms: 3, now: () => ++now });
    rooms.join('busy', 'ann');
    for (let i = 0; i < 50; i++) rooms.post(`spam-${i}`, 'bot', 'x');
    expect(rooms.roomCount).toBeLessThanOrEqual(3);
    expect(rooms.members('busy')).toEqual(['ann']);
    expect(rooms.join('spam-49', 'bob').map((message) => message.text)).toEqual(['x']);
    expect(rooms.join('spam-0', 'bob')).toEqual([]);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.take('ann'))).toEqual([true, true, true, false]);
    expect(limiter.take('bob')).toBe(true);
    now += 499;
    expect(limiter.take('ann')).toBe(false);
    now += 1;
    expect(limiter.take('ann')).toBe(true);
    expect(limiter.take('ann')).toBe(false);
    now += 10_000;
    expect([1, 2, 3, 4].map(() => limiter.take('ann'))).toEqual([true, true, true, false]);
  });

  it('drops buckets that refilled, so memory follows active users', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, now: () => now });
    for (let i = 0; i < 10_001; i++) limiter.take(`user${i}`);
    now += 5_000;
    limiter.take('late');
    expect(limiter.trackedKeys).toBeLessThan(10);
  });
});

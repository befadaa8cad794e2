// Channels routing under hostile paths: very long ones, ambiguous splits between adjacent parameters
// (linear time, same answers as a greedy backtracking regex), control characters. Pure: no sockets.
import { describe, expect, it } from 'vitest';
import { URLRouter, path, type Scope } from '../../src/channels/routing.ts';

class ChatConsumer {}
class OtherConsumer {}
class TailConsumer {}

function ws(pathText: string): Scope {
  return { type: 'websocket', path: pathText };
}

describe('pathological inputs', () => {
  it('very long paths resolve in linear time through our converters', () => {
    const router = new URLRouter([
      path('ws/<a>/<b>/', ChatConsumer),
      path('ws/<slug:a>-<slug:b>/x', OtherConsumer),
      path('f/<path:p>/end/', TailConsumer),
    ]);
    const long = 'a'.repeat(200_000);
    const started = Date.now();
    expect(router.resolve(ws(`/ws/${long}/b/`))?.scope.urlRoute?.kwargs).toEqual({ a: long, b: 'b' });
    expect(router.resolve(ws(`/ws/${long}/`))).toBeNull();
    expect(router.resolve(ws(`/f/${'a/'.repeat(100_000)}end/`))?.app).toBe(TailConsumer);
    expect(router.resolve(ws(`/f/${'a/'.repeat(100_000)}`))).toBeNull();
    expect(router.resolve(ws(`/ws/${'%41'.repeat(100_000)}/b/`))?.scope.urlRoute?.kwargs).toEqual({
      a: 'A'.repeat(100_000),
      b: 'b',
    });
    // Generous: quadratic or exponential backtracking over 200,000 characters would take minutes.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('adjacent parameters with overlapping characters stay linear (a backtracking regex is quadratic)', () => {
    const router = new URLRouter([
      path('ws/<slug:a>-<slug:b>/x', ChatConsumer),
      path('<str:a>.<str:b>.<str:c>', OtherConsumer),
    ]);
    const started = Date.now();
    // 'a-a-a-…/y': a regex tries every split of the dashes, and each try scans to the end: 4·10⁹ steps.
    expect(router.resolve(ws(`/ws/${'a-'.repeat(100_000)}/y`))).toBeNull();
    expect(router.resolve(ws(`/${'.'.repeat(100_000)}/`))).toBeNull();
    expect(router.resolve(ws(`/ws/${'a-'.repeat(100_000)}b/x`))?.scope.urlRoute?.kwargs).toEqual({
      a: `${'a-'.repeat(99_999)}a`,
      b: 'b',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('picks the same split as a greedy backtracking regex (checked against RegExp on random paths)', () => {
    const routes: [string, string][] = [
      ['<slug:a>-<slug:b>/', '^([-a-zA-Z0-9_]+)-([-a-zA-Z0-9_]+)/$'],
      ['<str:a>.<str:b>', '^([^/]+)\\.([^/]+)$'],
      ['<path:a>/<int:b>/<str:c>', '^(.+)/([0-9]+)/([^/]+)$'],
      ['<path:a>-<slug:b>', '^(.+)-([-a-zA-Z0-9_]+)$'],
    ];
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = 'a1-./_';
    let matched = 0;
    for (const [route, source] of routes) {
      const regex = new RegExp(source, 's');
      const router = new URLRouter([path(route, ChatConsumer)]);
      for (let i = 0; i < 2_000; i++) {
        let text = '';
        for (let n = random(12); n > 0; n--) text += alphabet[random(alphabet.length)];
        const expected = regex.exec(text.replace(/^\/+/, ''));
        const kwargs = router.resolve(ws(`/${text}`))?.scope.urlRoute?.kwargs;
        expect(
          kwargs === undefined ? null : Object.values(kwargs).map(String),
          `${route} on ${text}`,
        ).toEqual(
          expected === null
            ? null
            : expected
                .slice(1)
                .map((value) =>
                  String(
                    Number.isSafeInteger(Number(value)) && /^[0-9]+$/.test(value) ? Number(value) : value,
                  ),
                ),
        );
        if (expected !== null) matched++;
      }
    }
    expect(matched).toBeGreaterThan(300); // 454 with this seed: both outcomes are exercised
  });

  it('control characters, NUL and lone surrogates are just characters', () => {
    const router = new URLRouter([path('ws/<room>/', ChatConsumer), path('p/<path:p>', OtherConsumer)]);
    expect(router.resolve(ws('/ws/%00%0a/'))?.scope.urlRoute?.kwargs).toEqual({ room: '\0\n' });
    expect(router.resolve(ws('/p/a%0Ab'))?.scope.urlRoute?.kwargs).toEqual({ p: 'a\nb' });
    expect(router.resolve(ws('/ws/\ud800%41/'))?.scope.urlRoute?.kwargs).toEqual({ room: '\ufffdA' });
  });
});

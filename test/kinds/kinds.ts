// The three bufferevent kinds, each as two connected ends of that kind, for describe.each in test/kinds/.
import { Bufferevent, type EvBuffer, type FilterFunction } from '../../src/index.ts';
import { socketPairBufferevents } from '../helpers.ts';

/** Moves what fits (limit < 0: everything) unchanged. */
export const passThrough: FilterFunction = (src: EvBuffer, dst: EvBuffer, limit: number) => {
  const count = limit < 0 ? src.length : Math.min(limit, src.length);
  if (count === 0) return 'need-more';
  dst.add(src.remove(count));
  return 'ok';
};

function filteredEnd(socket: Bufferevent): Bufferevent {
  return Bufferevent.filter(socket, { input: passThrough, output: passThrough });
}

export interface Kind {
  kind: 'socket' | 'pair' | 'filter';
  /** Two connected ends, both of this kind, neither enabled for reading yet. */
  connect: () => [Bufferevent, Bufferevent];
}

export const kinds: Kind[] = [
  { kind: 'socket', connect: () => socketPairBufferevents() },
  { kind: 'pair', connect: () => Bufferevent.pair() },
  {
    kind: 'filter',
    connect: () => {
      const [a, b] = socketPairBufferevents();
      return [filteredEnd(a), filteredEnd(b)];
    },
  },
];

export function pattern(size: number, seed = 0): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 29 + seed + (i >>> 11)) & 0xff;
  return data;
}

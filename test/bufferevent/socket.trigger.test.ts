// trigger() and triggerEvent(): watermarks respected unless ignored, exact flags, always from the loop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEV, EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe('trigger', () => {
  it('runs the read callback below the low watermark only with ignoreWatermarks', async () => {
    const [reader, writer] = socketPairBufferevents();
    const lengths: number[] = [];
    reader.setWatermark(EV.READ, 10);
    reader.setCallbacks({ read: (bev) => lengths.push(bev.input.length) });
    reader.enable(EV.READ);
    writer.write('abc');
    await waitFor(() => reader.input.length === 3, 5_000, 'three bytes of input');

    reader.trigger(EV.READ);
    await turns(5);
    expect(lengths).toEqual([]);

    reader.trigger(EV.READ, { ignoreWatermarks: true });
    expect(lengths).toEqual([]); // deferred to the loop
    await waitFor(() => lengths.length > 0, 5_000, 'the triggered read callback');
    await turns(5);
    expect(lengths).toEqual([3]);
    expect(reader.input.length).toBe(3); // a trigger reads nothing by itself
    reader.free();
    writer.free();
  });

  it('runs the read callback on an empty input when the low watermark is 0', async () => {
    const [reader, writer] = socketPairBufferevents();
    let reads = 0;
    reader.setCallbacks({ read: () => reads++ });
    reader.trigger(EV.READ);
    await waitFor(() => reads > 0, 5_000, 'the triggered read callback');
    await turns(5);
    expect(reads).toBe(1);
    reader.free();
    writer.free();
  });

  it('runs the write callback above the write low watermark only with ignoreWatermarks', async () => {
    const [sender, receiver] = socketPairBufferevents();
    const lengths: number[] = [];
    sender.setCallbacks({ write: (bev) => lengths.push(bev.output.length) });
    expect(sender.enabled).toBe(EV.WRITE); // libevent enables writing on creation
    sender.disable(EV.WRITE);
    sender.write('queued');
    expect(sender.output.length).toBe(6);

    sender.trigger(EV.WRITE);
    await turns(5);
    expect(lengths).toEqual([]);

    sender.trigger(EV.WRITE, { ignoreWatermarks: true });
    await waitFor(() => lengths.length > 0, 5_000, 'the triggered write callback');
    await turns(5);
    expect(lengths).toEqual([6]);
    sender.free();
    receiver.free();
  });
});

describe('triggerEvent', () => {
  it.each([
    { name: 'BEV.EOF', flags: BEV.EOF },
    { name: 'BEV.EOF | BEV.READING', flags: BEV.EOF | BEV.READING },
    { name: 'BEV.TIMEOUT | BEV.WRITING', flags: BEV.TIMEOUT | BEV.WRITING },
  ])('delivers exactly $name, once, from the loop', async ({ flags }) => {
    const [a, b] = socketPairBufferevents();
    const seen: Array<{ events: number; hasError: boolean }> = [];
    a.setCallbacks({ event: (_bev, events, error) => seen.push({ events, hasError: error !== undefined }) });
    a.triggerEvent(flags);
    expect(seen).toEqual([]);
    await waitFor(() => seen.length > 0, 5_000, 'the triggered event');
    await turns(5);
    expect(seen).toEqual([{ events: flags, hasError: false }]);
    a.free();
    b.free();
  });
});

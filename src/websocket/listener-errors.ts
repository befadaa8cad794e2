// Running the user's listeners in the middle of a state change: each step runs even when an
// earlier listener threw, so the state machine always finishes ('open' after a throwing 'upgrade',
// 'close' after a throwing 'error'); the first exception is then rethrown to the caller (it
// reaches the process like any exception from an I/O callback), later ones on the next tick.
// Nothing is swallowed.
export class ListenerErrors {
  #first: { error: unknown } | null = null;

  run(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (this.#first === null) this.#first = { error };
      else
        process.nextTick(() => {
          throw error;
        });
    }
  }

  rethrow(): void {
    const first = this.#first;
    this.#first = null;
    if (first !== null) throw first.error;
  }
}

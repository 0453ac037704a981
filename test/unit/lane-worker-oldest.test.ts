import { createLaneWorker } from "../../src/bot/lane-worker";

/** oldestWaiting() is kept between calls; it must still follow lanes leaving and re-entering the queue. */
describe("lane worker: oldest waiting job", () => {
  let now = 1_000;
  beforeEach(() => {
    now = 1_000;
    jest.spyOn(Date, "now").mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it("tracks the longest-waiting lane as lanes are added, started and handed back", async () => {
    let bound = 0;
    const release: Array<() => void> = [];
    const started: string[] = [];
    const w = createLaneWorker<string>({
      concurrency: () => bound,
      run: (job) => new Promise<void>((r) => (started.push(job), release.push(r))),
    });
    expect(w.oldestWaiting()).toBeNull();
    w.push("a", "a1");
    now = 1_010;
    w.push("b", "b1");
    w.push("a", "a2"); // same lane: not a new oldest
    expect(w.oldestWaiting()).toBe(1_000);
    now = 1_020;
    w.push("c", "c1");
    expect(w.oldestWaiting()).toBe(1_000);
    bound = 1;
    w.pump(); // lane a starts
    expect(started).toEqual(["a1"]);
    expect(w.oldestWaiting()).toBe(1_010); // b is now the oldest waiting
    bound = 0;
    release.shift()!(); // a1 done; a still has a2 (pushed at 1_010) and is handed back, over the bound
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(w.oldestWaiting()).toBe(1_010);
    bound = 3;
    w.pump();
    expect(started.sort()).toEqual(["a1", "a2", "b1", "c1"]);
    expect(w.oldestWaiting()).toBeNull();
    release.forEach((r) => r());
    await w.idle();
  });
});

import { JobFeed } from '../src/jobsmodel';
import { IJob } from '../src/models';

/** A feed whose reads answer `answers` in turn: true (something new), false, or an Error. */
class Feed extends JobFeed {
  constructor(private readonly answers: Array<boolean | Error | 'end'>) {
    super('a');
  }

  reads = 0;

  protected async read(job: IJob | undefined): Promise<boolean> {
    const answer = this.answers[this.reads++];
    if (answer instanceof Error) {
      throw answer;
    }
    if (answer === 'end') {
      this.finish();
      return true;
    }
    return answer;
  }
}

async function updates(feed: Feed, count: number): Promise<string[]> {
  const seen: string[] = [];
  feed.changed.connect(() => seen.push(feed.error?.message ?? 'read'));
  for (let i = 0; i < count; i++) {
    await feed.update(undefined);
  }
  return seen;
}

describe('JobFeed', () => {
  it('emits when it read something new, and once per new error', async () => {
    const feed = new Feed([true, false, new Error('gone'), new Error('gone'), false, true]);
    expect(await updates(feed, 6)).toEqual(['read', 'gone', 'read', 'read']);
    expect(feed.error).toBeNull();
  });

  it('reads nothing more once done', async () => {
    const feed = new Feed(['end', true]);
    await updates(feed, 3);
    expect(feed.done).toBe(true);
    expect(feed.reads).toBe(1);
  });

  it('does not start a read while one is running (it would read the same bytes twice)', async () => {
    const feed = new Feed([true, true]);
    await Promise.all([feed.update(undefined), feed.update(undefined)]);
    expect(feed.reads).toBe(1);
  });
});

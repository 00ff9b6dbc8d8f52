import { askedResources, describeRayJob, IJob } from '../src/models';

const rayJob = (resources: IJob['resources']) => ({ backend: 'ray', resources }) as IJob;

describe('askedResources', () => {
  it('sends what the notebook form sends: filled fields above 0, memory from GB to bytes', () => {
    expect(askedResources({ cpus: '1', gpus: '', memory: '0.25' })).toEqual({
      cpus: 1,
      memory: 1 << 28
    });
    expect(askedResources({ cpus: '0.5', gpus: '2' })).toEqual({ cpus: 0.5, gpus: 2 });
    expect(askedResources({ cpus: '', gpus: '0' })).toBeNull(); // nothing asked
  });
});

describe('describeRayJob', () => {
  it('says a job is on Ray and what it asked for, as the notebook table does', () => {
    expect(describeRayJob(rayJob({ cpus: 1, memory: 1 << 28 } as IJob['resources']))).toBe(
      'on Ray (1 CPU, 256 MB)'
    );
    expect(describeRayJob(rayJob({ gpus: 0.5 } as IJob['resources']))).toBe('on Ray (0.5 GPU)');
    expect(describeRayJob(rayJob(null))).toBe('on Ray');
  });
});

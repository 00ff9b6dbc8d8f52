import { describeAudience, splitNames } from '../src/format';

describe('describeAudience', () => {
  it('says who may open an app, in the words of `jupyter mlapp app list`', () => {
    expect(describeAudience({})).toBe('every signed-in user');
    expect(describeAudience({ users: [], roles: [] })).toBe('every signed-in user');
    expect(describeAudience({ users: ['vera'] })).toBe('users vera');
    expect(
      describeAudience({ users: ['vera', 'val'], roles: ['viewer'], groups: ['analysts'] })
    ).toBe('users vera, val; roles viewer; groups analysts');
  });
});

describe('splitNames', () => {
  it('keeps the names of a comma-separated list, trimmed, without empty ones', () => {
    expect(splitNames(' vera, val ,, ')).toEqual(['vera', 'val']);
    expect(splitNames('')).toEqual([]);
  });
});

/**
 * Named fake upstreams for one test file: started before its tests, reset after
 * each test (script, default behaviour, recorded requests), closed at the end.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { FakeUpstream } from './fake-upstream.js';

export function useFakeUpstreams<const Name extends string>(...names: Name[]): Record<Name, FakeUpstream> {
  const upstreams = {} as Record<Name, FakeUpstream>;
  beforeAll(async () => {
    for (const name of names) upstreams[name] = await FakeUpstream.start();
  });
  afterEach(() => {
    for (const name of names) upstreams[name].reset();
  });
  afterAll(async () => {
    for (const name of names) await upstreams[name].close();
  });
  return upstreams;
}

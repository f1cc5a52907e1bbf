import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { latencyBucketsSeconds } from './kv-metrics.js';
import { LatencyHistogram } from './latency-histogram.js';

const samples = [0, 0.00005, 0.0001, 0.0003, 0.002, 0.002, 0.04, 0.7, 3, 9.99, 10, 42];

async function exposition(observe: (value: number) => void, metric: Histogram): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  registry.registerMetric(metric);
  for (const value of samples) observe(value);
  return registry.metrics();
}

describe('LatencyHistogram', () => {
  it('exposes the same text as a prom-client histogram fed the same durations', async () => {
    const options = { name: 'kv_test_seconds', help: 'Test.', buckets: [...latencyBucketsSeconds] };
    const reference = new Histogram({ ...options, registers: [] });
    const fast = new LatencyHistogram(options);
    const expected = await exposition((value) => reference.observe(value), reference);
    const actual = await exposition((value) => fast.observe(value), fast);
    expect(actual).toBe(expected);
    expect(actual).toContain('kv_test_seconds_bucket{le="0.0001",node="n1"} 3');
    expect(actual).toContain('kv_test_seconds_count{node="n1"} 12');
    // The object form too, but for prom-client's empty exemplar slots.
    const plain = async (metric: Histogram) =>
      (await metric.get()).values.map(({ labels, value, metricName }) => ({
        labels,
        value,
        metricName,
      }));
    expect(await plain(fast)).toEqual(await plain(reference));
  });

  it('starts over on reset, and refuses labels and values that are not finite', async () => {
    const fast = new LatencyHistogram({ name: 'kv_reset_seconds', help: 'Test.', buckets: [1] });
    fast.observe(0.5);
    fast.reset();
    const values = (await fast.get()).values.map((sample) => sample.value);
    expect(values).toEqual([0, 0, 0, 0]);
    expect(() => fast.observe({ route: 'x' }, 1)).toThrow(TypeError);
    expect(() => fast.observe(Number.NaN)).toThrow(TypeError);
  });
});

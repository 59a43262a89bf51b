// Where a process exports its spans: the standard variable first, then the app's environment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, implement, rpc, handler } from '../../../carotene/src/index.ts';
import { otlpEndpoint, sampleRatio } from '../../src/telemetry/start-telemetry.ts';

const Ping = contract('ping', { ping: rpc({ input: z.object({}), output: z.null() }) });
const ping = implement(Ping, {}).handlers({ ping: handler({}, async () => null) });
const withTelemetry = app({
  name: 'otlp',
  services: [ping],
  environments: { production: { telemetry: { otlpEndpoint: 'http://collector.monitoring:4318' } } },
});

describe('OTLP endpoint', () => {
  it('takes OTEL_EXPORTER_OTLP_ENDPOINT first, then telemetry.otlpEndpoint of the environment', () => {
    assert.equal(
      otlpEndpoint(withTelemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9400', CAROTENE_ENVIRONMENT: 'production' }),
      'http://127.0.0.1:9400',
    );
    assert.equal(otlpEndpoint(withTelemetry, { CAROTENE_ENVIRONMENT: 'production' }), 'http://collector.monitoring:4318');
    assert.equal(otlpEndpoint(withTelemetry, {}), undefined, 'development configures none');
    assert.equal(otlpEndpoint(undefined, {}), undefined);
  });

  it('exports nothing when OTEL_SDK_DISABLED=true', () => {
    assert.equal(otlpEndpoint(withTelemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9400', OTEL_SDK_DISABLED: 'true' }), undefined);
  });

  it('samples by OTEL_TRACES_SAMPLER=(parentbased_)traceidratio and OTEL_TRACES_SAMPLER_ARG, else records every trace', () => {
    assert.equal(sampleRatio({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }), 0.1);
    assert.equal(sampleRatio({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }), 0);
    assert.equal(sampleRatio({ OTEL_TRACES_SAMPLER_ARG: '0.1' }), undefined, 'no ratio sampler named');
    assert.equal(sampleRatio({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), undefined, 'out of range');
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    assert.throws(
      () => app({ name: 'bad', services: [ping], environments: { staging: { telemetry: { otlpEndpoint: 'collector:4318' } } } }),
      /environments\.staging\.telemetry\.otlpEndpoint/,
    );
  });
});

// carotene/testing: run one service in-process with its integrations mocked.
export { testService, type Given, type Mocks, type PublishedEvent, type TestCallOptions, type TestService, type TestServiceOptions } from './test-service.ts';
export type { HttpMock, HttpMockAnswer, RecordedHttpRequest } from './mock-http.ts';
export type { MockTools, RecordedCall } from './mock-transport.ts';

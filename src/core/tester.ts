// The tester API (`tester:sys-v0.wit`): what tester:tester:sys sends a test process and what the
// test answers. Used by the tester in the runtime and by kit/process's test helpers.

export interface RunRequest {
  input_node_names: string[];
  test_names: string[];
  test_timeout: number;
}

export interface FailResponse {
  test: string;
  file: string;
  line: number;
  column: number;
}

export type TesterRequest = { Run: RunRequest };
export type TesterResponse = { Run: { Ok: null } | { Err: FailResponse } };

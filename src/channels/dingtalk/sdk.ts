import type * as Sdk from "dingtalk-stream" with { "resolution-mode": "import" };

// dingtalk-stream ships CommonJS (dist/index.cjs, its "require" export) but types that TypeScript reads
// as ESM under "type": "module"; the types are taken as ESM and the code is required as CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = require("dingtalk-stream") as typeof Sdk;

export const DWClient = sdk.DWClient;
export type DWClient = Sdk.DWClient;
export type DWClientDownStream = Sdk.DWClientDownStream;

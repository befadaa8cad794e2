// Entry point of the tail engine: following configured log files for viewers (the server's live log
// tail). See docs/tail.md.
export { TailEngine, type TailEngineStats, type TailOpenOptions } from './tail-engine.ts';
export { TailViewer, type TailViewerStats } from './viewer.ts';
export { webSocketSink, type TailSink, type WebSocketLike } from './sink.ts';
export type { TailItem, TailLine, TailNotice, TailNoticeKind } from './items.ts';
export { DEFAULT_TAIL_LIMITS, type TailLimits } from './limits.ts';
export type { TailLogConfig, TailLogsConfig } from './log-catalog.ts';

// lifecycle.ts: the plugin lifecycle and its legal transitions. An illegal transition is a typed
// error, never a half-done state.
import { BulkheadError, ErrorCode } from './errors';

export type PluginState = 'loaded' | 'initialized' | 'running' | 'paused' | 'terminated';

const LEGAL: Record<PluginState, readonly PluginState[]> = {
  loaded: ['initialized', 'terminated'],
  initialized: ['running', 'terminated'],
  running: ['paused', 'terminated'],
  paused: ['running', 'terminated'],
  terminated: [],
};

export class Lifecycle {
  private current: PluginState = 'loaded';

  constructor(private readonly onChange: (from: PluginState, to: PluginState) => void) {}

  get state(): PluginState {
    return this.current;
  }

  can(to: PluginState): boolean {
    return LEGAL[this.current].includes(to);
  }

  /** Moves to `to` or throws ERR_INVALID_STATE naming both states. */
  to(to: PluginState, what: string): void {
    if (!this.can(to)) {
      throw new BulkheadError(ErrorCode.INVALID_STATE,
        `Cannot ${what}: the plugin is ${this.current} (allowed from here: ${LEGAL[this.current].join(', ') || 'nothing'})`);
    }
    const from = this.current;
    this.current = to;
    this.onChange(from, to);
  }
}

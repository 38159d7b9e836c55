/**
 * Keeps the journal able to drain when its space runs out. New events are refused (ingest answers
 * 503) while there is still a reserve left, so that claims, outcomes and deletions, which need a
 * little space of their own, always have it: a journal that filled its last byte with events
 * could no longer record a delivery, so it could never delete one either, and stayed full for
 * good. Deleted rows go to SQLite's freelist and are reused, so the space that counts is what the
 * filesystem has free plus what the file holds free.
 *
 * Two limits, whichever bites first:
 * - the filesystem: refuse below `reserve` free bytes (by default a fifth of the filesystem, at
 *   most 64 MiB), as a message broker blocks publishers at a free-disk watermark;
 * - `storage.max_size`: refuse once the live pages reach `max_size` less a fifth of it (at most
 *   64 MiB). SQLite's own `max_page_count` stays at `max_size`, so draining has the fifth to use.
 * Ingest resumes once free space is back above the limit by a quarter (hysteresis: a limit that
 * flips at every event would accept and refuse senders alternately).
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** Most a reserve takes, whatever the size of the disk or the cap. */
const MAX_RESERVE = 64 * 1024 * 1024;
/** Share of the disk or of the cap that a default reserve takes. */
const RESERVE_SHARE = 0.2;
/** Free space must climb this far above the reserve before ingest resumes. */
const RESUME_FACTOR = 1.25;
/** Share of a small filesystem the WAL may take between checkpoints (see `walLimitPages`). */
const WAL_SHARE = 0.05;

/** Where the journal's space stands. */
export interface StorageState {
  /** True while new events are refused. */
  full: boolean;
  /** Bytes that new events may still take before the limit (negative past it). */
  headroom: number;
  /** Which limit bites: the filesystem's free space or `storage.max_size`. */
  limit: 'disk' | 'max_size';
}

export interface StorageGuardOptions {
  path: string;
  /** `storage.max_size`, in bytes. */
  maxSize?: number | undefined;
  /** Free bytes to keep on the filesystem for draining; default a fifth of it, at most 64 MiB. */
  reserve?: number | undefined;
}

/** The default reserve for a space of `total` bytes. */
export function defaultReserve(total: number): number {
  return Math.min(MAX_RESERVE, Math.floor(total * RESERVE_SHARE));
}

/**
 * WAL pages between automatic checkpoints on this filesystem: SQLite's 1000 (4 MiB), or less on a
 * small filesystem, where a WAL of 4 MiB could itself take the space that draining needs.
 */
export function walLimitPages(path: string, pageSize: number): number {
  const fs = statfsSync(dirname(path));
  const pages = Math.floor((fs.blocks * fs.bsize * WAL_SHARE) / pageSize);
  return Math.max(32, Math.min(1000, pages));
}

/** Watches the journal's space from the writer's connection; `check()` at most once per turn of the writer. */
export class StorageGuard {
  private readonly dir: string;
  private readonly pageSize: number;
  private readonly pageCount: Database.Statement<[], { page_count: number }>;
  private readonly freelistCount: Database.Statement<[], { freelist_count: number }>;
  private state: StorageState = { full: false, headroom: Number.POSITIVE_INFINITY, limit: 'disk' };

  constructor(
    sqlite: Database.Database,
    private readonly options: StorageGuardOptions,
  ) {
    this.dir = dirname(options.path);
    this.pageSize = sqlite.pragma('page_size', { simple: true }) as number;
    this.pageCount = sqlite.prepare('PRAGMA page_count');
    this.freelistCount = sqlite.prepare('PRAGMA freelist_count');
  }

  /** Reads the space now and says whether new events are refused. */
  check(): StorageState {
    const freePages = this.freelistCount.get()!.freelist_count;
    const reusable = freePages * this.pageSize;
    const fs = statfsSync(this.dir);
    const diskFree = fs.bavail * fs.bsize + reusable;
    const diskReserve = this.options.reserve ?? defaultReserve(fs.blocks * fs.bsize);
    let headroom = diskFree - diskReserve;
    let limit: StorageState['limit'] = 'disk';
    const { maxSize } = this.options;
    if (maxSize !== undefined) {
      const live = (this.pageCount.get()!.page_count - freePages) * this.pageSize;
      const capHeadroom = maxSize - defaultReserve(maxSize) - live;
      if (capHeadroom < headroom) {
        headroom = capHeadroom;
        limit = 'max_size';
      }
    }
    const reserve = limit === 'disk' ? diskReserve : defaultReserve(maxSize ?? 0);
    // Refuse at the limit; accept again only a quarter of the reserve above it.
    const full = this.state.full ? headroom < reserve * (RESUME_FACTOR - 1) : headroom < 0;
    this.state = { full, headroom, limit };
    return this.state;
  }

  /** The last state `check()` read. */
  get current(): StorageState {
    return this.state;
  }
}

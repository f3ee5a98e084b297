// The usage texts of the command line.

export const STATUS_USAGE = `Usage: snapshot-manager status (--state-dir <dir> | --dest <folder> | --output <file>) [--json]
  Prints what a job's state folder says: the source, the target, how far it got, its checkpoint, staged
  chunks, failed attempts, and whether a process runs the job right now.
  --state-dir <dir>   the job's state folder
  --dest <folder>     or the destination the job extracts into (state beside it)
  --output <file>     or the file a download-only job writes (state beside it)
  --json              one JSON object instead of text`;

export const USAGE = `Usage:
  snapshot-manager get <url> --dest <folder> [options]     download and extract a snapshot
  snapshot-manager get <url> --output <file> [options]     download only (exact bytes, resumable)
  snapshot-manager get --manifest <file|url> --dest <folder> [options]   a snapshot in parts, in order, into one folder
  snapshot-manager status (--state-dir <dir> | --dest <folder> | --output <file>) [--json]
  snapshot-manager serve [--host 127.0.0.1] [--port N] [--state-dir <dir>]   the UI in a browser

Options for get:
  --state-dir <dir>        staging window and job state (default: .<name>.snapshot-manager beside the target)
  --chunk-size <size>      bytes per range request (default 64M)
  --window <n>             chunks staged or in flight at most (default 4); disk used <= window x chunk size
  --concurrency <n>        ranges in flight at once (default 4, at most --window)
  --idle-timeout <secs>    give up on a connection after this long without a byte (default 30; "500ms" works)
  --retries <n>            failed attempts in a row per chunk before the job fails (default 8)
  --limit-rate <rate>      cap the download rate, bytes/s with K/M/G suffixes (e.g. 20M)
  --format <f>             auto | tar | gzip | lz4 | zstd (default auto)
  --sha256 <hex>           verify the downloaded (compressed) file; a mismatch exits with 4. A pasted line of
                           sha256sum output ("<hex>  <file>") or a BSD line ("SHA256 (<file>) = <hex>") works too
  --manifest <file|url>    the parts of a snapshot: a CSV with a url column (BNB Chain's filename,url,md5 shape),
                           a list of URLs (each optionally followed by md5:<hex> or sha256:<hex>), or a JSON list
                           of {url, md5?, sha256?, size?}; each part's checksum is verified, finished parts are skipped
  --md5 <hex>              the same with MD5 (the checksum most providers publish); md5sum lines work too
  --no-sidecar             do not look for <url>.sha256, <url>.md5 or SHA256SUMS/MD5SUMS beside the file (by
                           default a checksum found there is verified; --sha256/--md5 win over it)
  --header 'Name: value'   send this request header (repeatable; e.g. a Bearer token) to the URL's origin only,
                           never to a host a redirect leads to; kept owner-only with the job's state so a resumed
                           run sends it again, and never printed
  --mirror <url>           another URL of the same file (repeatable): each is probed for the same size (and ETag
                           unless --sha256/--md5 is given), ranges go to the fastest by measured throughput, a
                           failing one is benched and tried again later, one serving another file is dropped; kept
                           owner-only with the job's state so a resumed run uses them again
  --refresh-url-command <cmd>  when the link expires (401/403 mid-job), run this shell command (60 s at most) and
                           continue with the URL on the first line it prints, if it serves the same file; kept
                           owner-only with the job's state for resumed runs
  --strict                 an unsafe archive entry fails the job instead of being skipped
  --force                  extract into a non-empty folder that this job did not start
  --restart                forget an earlier run's state (e.g. after the upstream changed)
  --keep-state             keep the state folder after the job completes (it holds the URL; removed by default)
  --no-checkpoints         no extraction checkpoints: a little faster, but a stopped job extracts again from the start
  --zstd-max-window <size> largest zstd window a frame may need (default 128M, as zstd -d); it is held in memory
  --json                   NDJSON events on stdout; the last line is {"type":"done",...} or {"type":"error",...}

Exit codes: 0 done, 1 failed, 2 usage, 3 interrupted (run again to resume), 4 checksum mismatch or upstream changed,
5 the link expired (everything is kept: run the same get with a fresh link to the same file, and it continues).`;

import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one field set for every Carotene process. */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label, number) => ({ level: number, levelName: label }) },
    },
    destination,
  );
}

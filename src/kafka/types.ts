// The loop's record types live in util/ so that engine/ (below kafka/) can produce them too.
export * from '../util/records.js';

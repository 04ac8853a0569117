// Module LfosaStore: see README Architecture.
//
// The session database: configuration, items, the append-only annotation history, per-round
// records, the query queue, and the file formats labels leave in. May import Foundation, Glibc
// and GRDB only; knows nothing of images or networks.

import SMTPServices

/// The copy of a captured message the milters will read.
struct MessageCopy {
    let spool: MessageSpool
    var failure: MessageSpool.Failure?
}

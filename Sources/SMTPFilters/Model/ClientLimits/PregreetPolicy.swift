import SMTPCore

/// `settings.pregreet` is the engine's `PregreetAction` (the engine carries it out).
public typealias PregreetPolicy = PregreetAction

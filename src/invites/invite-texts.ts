/** What the person who opened an invite link reads back in the messenger. */

/** The link worked: their address is now the contact's. */
export const CONNECTED_TEXT = 'You are connected: messages will reach you here.'

/** The token was used already, expired, never existed, or its contact is gone: nothing was connected. */
export const NOT_CONNECTED_TEXT = 'Sorry, this invite link has already been used or is no longer valid. Please ask for a new one.'

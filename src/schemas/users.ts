/** Users and API keys: the admin routes (/v1/admin/users) and a user's own keys (/v1/keys). */
import { Type, type Static } from 'typebox'
import { ErrorBody, RequestErrors, UserName } from './common.js'
import { DEFAULT_PAGE, MAX_PAGE } from './contacts.js'

const Label = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\p{Cc}]+$', description: 'What the key is for, e.g. "billing server"' })
const Time = Type.String({ format: 'date-time' })

export const KeyId = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'The key\'s id: the 16 hex digits after `fo_`' })

export const KeyInfo = Type.Object({
  id: Type.String(),
  label: Type.Optional(Type.String()),
  created_at: Time,
  revoked_at: Type.Optional(Time)
}, { description: 'An API key, without its secret' })

export const IssuedKey = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'The key itself: shown this once, stored only as a hash. Send it as `Authorization: Bearer <key>`' }),
  label: Type.Optional(Type.String()),
  created_at: Time
}, { description: 'A new API key' })

export const User = Type.Object({
  name: Type.String(),
  created_at: Time,
  active_keys: Type.Integer({ description: 'Keys not revoked' })
})

export const UserDetail = Type.Object({
  ...User.properties,
  keys: Type.Array(KeyInfo, { description: 'Every key of the user, revoked ones too, oldest first' })
})

/** The body may be left out altogether (an empty body is an empty object). */
export const NewKeyBody = Type.Object({ label: Type.Optional(Label) }, { additionalProperties: false })
export type NewKeyBody = Static<typeof NewKeyBody>

export const NewUserBody = Type.Object({
  name: UserName,
  label: Type.Optional(Label)
}, { additionalProperties: false })

export const NewUser = Type.Object({ user: User, key: IssuedKey })

export const UserList = Type.Object({
  users: Type.Array(User, { description: 'In name order' }),
  next_cursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' }))
})

export const UserListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })),
  cursor: Type.Optional(UserName)
}, { additionalProperties: false })

export const KeyList = Type.Object({ keys: Type.Array(KeyInfo, { description: 'Oldest first, revoked ones too' }) })

export const KeyParams = Type.Object({ id: KeyId })
export const UserParams = Type.Object({ name: UserName })
export const UserKeyParams = Type.Object({ name: UserName, id: KeyId })

export const userErrors = { 404: ErrorBody, ...RequestErrors }

const SKIP_UNREACHABLE = 'Whether the user\'s sends that do not say `skip_unreachable` skip the addresses marked dead (their deliveries end `suppressed`, reason `address_unreachable`)'

export const Settings = Type.Object({
  skip_unreachable: Type.Boolean({ description: `${SKIP_UNREACHABLE}: the user's own setting, else the deployment's default` }),
  deployment_defaults: Type.Object({
    skip_unreachable: Type.Boolean({ description: 'SKIP_UNREACHABLE_DEFAULT' })
  }, { description: 'What applies where the user has set nothing (the deployment\'s settings)' })
}, { description: 'The user\'s settings, as they apply now' })

export const SettingsChange = Type.Object({
  skip_unreachable: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: `${SKIP_UNREACHABLE}; null: as the deployment's default says` }))
}, { additionalProperties: false, description: 'The settings to change; those left out stay as they are' })
export type SettingsChange = Static<typeof SettingsChange>

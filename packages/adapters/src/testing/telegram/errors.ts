/**
 * Errors of the fake Telegram Bot API: one class that knows its wire shape, and the descriptions the real
 * server sends (copied from what bots observe, so adapters can match on them the same way).
 */

export interface ResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

/** A failed Bot API call, answered as `{ ok: false, error_code, description, parameters? }`. */
export class BotApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      ok: false,
      error_code: this.errorCode,
      description: this.description,
    };
    if (this.parameters) body.parameters = this.parameters;
    return body;
  }
}

export const badRequest = (what: string): BotApiError => new BotApiError(400, `Bad Request: ${what}`);

export const tooManyRequests = (retryAfterSeconds: number): BotApiError =>
  new BotApiError(429, `Too Many Requests: retry after ${retryAfterSeconds}`, {
    retry_after: retryAfterSeconds,
  });

/** What the real server says, for the cases an adapter is expected to handle. */
export const DESCRIPTIONS = {
  methodNotFound: 'Not Found: method not found',
  unauthorized: 'Unauthorized',
  chatNotFound: 'chat not found',
  messageToEditNotFound: 'message to edit not found',
  messageToDeleteNotFound: 'message to delete not found',
  messageToReplyNotFound: 'message to be replied not found',
  messageCantBeEdited: "message can't be edited",
  noTextToEdit: 'there is no text in the message to edit',
  noCaptionToEdit: 'there is no caption in the message to edit',
  noMediaToEdit: 'there is no media in the message to edit',
  notModified:
    'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  messageIdentifierMissing: 'message identifier is not specified',
  textEmpty: 'message text is empty',
  textTooLong: 'message is too long',
  captionTooLong: 'message caption is too long',
  buttonDataInvalid: 'BUTTON_DATA_INVALID',
  textButtonInInlineKeyboard:
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
  wrongFileId: 'wrong file identifier/HTTP URL specified',
  urlContentFailed: 'failed to get HTTP URL content',
  imageProcessFailed: 'IMAGE_PROCESS_FAILED',
  photoInvalidDimensions: 'PHOTO_INVALID_DIMENSIONS',
  invalidFileId: 'invalid file_id',
  mediaGroupSize: 'media group must include 2-10 items',
  /** Documented ("a new file can't be uploaded" for inline messages); this wording is the fake's own. */
  inlineUpload: "can't upload a new file for an inline message; use a file_id or an HTTP URL",
  queryTooOld: 'query is too old and response timeout expired or query ID is invalid',
  resultsTooMuch: 'RESULTS_TOO_MUCH',
  resultIdDuplicate: 'RESULT_ID_DUPLICATE',
  botCommandInvalid: 'BOT_COMMAND_INVALID',
  wrongChatAction: 'wrong parameter action in request',
  noAdminsInPrivateChat: 'there are no administrators in the private chat',
  webhookActive:
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  terminatedByOtherPoll:
    'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
} as const;

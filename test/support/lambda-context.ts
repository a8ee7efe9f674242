// A fake Lambda context for handler tests: the same stand-in the local pipeline uses, with
// a deadline far enough away that middy's early timeout never fires in a test.
export {
  type LambdaContext,
  localLambdaContext as fakeLambdaContext,
} from '../../functions/commons/lambda-context.js';
